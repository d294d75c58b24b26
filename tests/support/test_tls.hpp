#pragma once
/**
 * Throwaway TLS material for tests, generated at run time with the OpenSSL 3 API: a CA and a server
 * certificate it signs, valid for 127.0.0.1, ::1 and localhost (subjectAltName), EC P-256.
 */
#include <filesystem>
#include <string_view>

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

}  // namespace schakel::test
