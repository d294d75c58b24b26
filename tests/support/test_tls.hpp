#pragma once
/**
 * Throwaway TLS material for tests, generated at run time with the OpenSSL 3 API: a CA and a server
 * certificate it signs, valid for 127.0.0.1, ::1 and localhost (subjectAltName), EC P-256; and a
 * CA for client certificates (mutual TLS) with a revocation list.
 */
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace schakel::test {

struct tls_files {
  std::filesystem::path ca_cert;      ///< PEM; trust this to accept server_cert
  std::filesystem::path server_cert;  ///< PEM, signed by the CA
  std::filesystem::path server_key;   ///< PEM (PKCS#8, unencrypted)
};

/**
 * Writes <name>-ca.pem, <name>-server.pem and <name>-server-key.pem into `dir`. Each call makes a
 * new, unrelated CA, so two calls give a certificate the other CA does not trust. Throws
 * std::runtime_error when OpenSSL fails.
 */
tls_files make_test_tls(const std::filesystem::path& dir, std::string_view name = "test");

/** A client certificate and its key, both PEM; the key file is 0600. */
struct client_files {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::string serial_hex;  ///< what a revocation list names
};

/**
 * A CA that issues client certificates (extended key usage clientAuth) and revokes them. Each object
 * is a new, unrelated CA whose certificate is written to <dir>/<name>-ca.pem at construction.
 * Throws std::runtime_error when OpenSSL fails.
 */
class test_ca {
 public:
  test_ca(const std::filesystem::path& dir, std::string_view name);
  ~test_ca();
  test_ca(const test_ca&) = delete;
  test_ca& operator=(const test_ca&) = delete;

  const std::filesystem::path& ca_cert() const { return ca_cert_; }

  /**
   * Issues <dir>/<file>.pem and <dir>/<file>-key.pem with subject "O=<organisation>, CN=<common_name>"
   * (RFC 2253: "CN=<common_name>,O=<organisation>") and the given subjectAltName entries in OpenSSL's
   * text form ("DNS:a.example,URI:urn:x"; empty = none).
   */
  client_files issue_client(const std::string& file, const std::string& common_name,
                            const std::string& organisation = "Schakel tests", const std::string& san = {});

  /** Writes a CRL (PEM, valid for a week) revoking `revoked` to <dir>/<file>. */
  std::filesystem::path write_crl(const std::string& file, const std::vector<client_files>& revoked);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::filesystem::path ca_cert_;
};

}  // namespace schakel::test
