#include "delivery/client_tls.hpp"

#include <openssl/ssl.h>

namespace schakel::delivery {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_tls_context(const client_tls_files& files, std::string* error) {
  const auto failed = [error](const std::string& what) -> std::shared_ptr<ssl::context> {
    if (error != nullptr) *error = what;
    return nullptr;
  };
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);  // a host without a system store can still use ca_file
  if (!files.ca_file.empty()) {
    ctx->load_verify_file(files.ca_file, ec);
    if (ec) return failed("ca_file: cannot load " + files.ca_file + ": " + ec.message());
  }
  if (!files.certificate_file.empty()) {
    ctx->use_certificate_chain_file(files.certificate_file, ec);
    if (ec) return failed("tls.client_certificate_file: cannot load " + files.certificate_file + ": " + ec.message());
    // OpenSSL checks here that the key is the certificate's ("key values mismatch" otherwise).
    ctx->use_private_key_file(files.key_file, ssl::context::pem, ec);
    if (ec) return failed("tls.client_key_file: cannot load " + files.key_file + ": " + ec.message());
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace schakel::delivery
