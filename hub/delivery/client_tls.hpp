#pragma once
/**
 * The TLS context a subscription's webhook client uses: TLS >= 1.2, the partner verified against
 * the system CAs plus an optional CA file, and — when the partner requires mutual TLS — the
 * certificate and key the hub presents. Internal to hub/delivery.
 */
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace schakel::delivery {

struct client_tls_files {
  std::string ca_file;           ///< extra PEM CA bundle; empty = the system store only
  std::string certificate_file;  ///< PEM chain presented to the partner; empty = none
  std::string key_file;          ///< its PEM private key
};

/**
 * Builds the context once per subscription. nullptr with `error` set ("<setting>: cannot load
 * <file>: <reason>") when a file cannot be loaded or the key does not match the certificate.
 */
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const client_tls_files& files, std::string* error);

}  // namespace schakel::delivery
