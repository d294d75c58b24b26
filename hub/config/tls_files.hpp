#pragma once
/**
 * Checks of the certificate files a configuration names (mutual TLS), so a wrong file is a
 * configuration error at check-config rather than a failed handshake in production. Each function
 * returns why a file cannot be used, naming the file and never its contents; nullopt when it can.
 */
#include <optional>
#include <string>
#include <string_view>

namespace schakel::config {

/** A PEM file holding at least one certificate and nothing unreadable. */
std::optional<std::string> certificate_file_problem(const std::string& file);

/**
 * A PEM file holding at least one revocation list, each issued and signed by a certificate in
 * `ca_file` (a list of another CA would make every client certificate fail its revocation check).
 */
std::optional<std::string> crl_file_problem(const std::string& crl_file, const std::string& ca_file);

/** A PEM private key that belongs to the first certificate of `cert_file`. */
std::optional<std::string> key_file_problem(const std::string& key_file, const std::string& cert_file);

/**
 * The canonical form of a distinguished name written as RFC 2253 text ("CN=a, O=b" →
 * "CN=a,O=b"): spaces around separators dropped, attribute types upper-cased, escapes kept. nullopt
 * when a part has no "type=value".
 */
std::optional<std::string> canonical_subject(std::string_view text);

}  // namespace schakel::config
