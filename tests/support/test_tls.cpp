#include "support/test_tls.hpp"

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace schakel::test {

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
  void operator()(X509* p) const { X509_free(p); }
};
struct bio_free {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

[[noreturn]] void fail(const std::string& what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  throw std::runtime_error("test_tls: " + what + ": " + buf);
}

pkey_ptr new_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) fail(std::string("extension ") + OBJ_nid2sn(nid));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

enum class cert_kind { ca, server, client };

x509_ptr new_cert(const std::string& common_name, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
                  cert_kind kind = cert_kind::server, const std::string& organisation = "Schakel tests",
                  const std::string& client_san = {}) {
  x509_ptr cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7L * 24 * 3600);
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(organisation.c_str()), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  if (kind == cert_kind::ca) {
    add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  } else {
    add_ext(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), issuer, NID_key_usage, "critical,digitalSignature");
    if (kind == cert_kind::server) {
      add_ext(cert.get(), issuer, NID_ext_key_usage, "serverAuth");
      add_ext(cert.get(), issuer, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
    } else {
      add_ext(cert.get(), issuer, NID_ext_key_usage, "clientAuth");
      if (!client_san.empty()) add_ext(cert.get(), issuer, NID_subject_alt_name, client_san.c_str());
    }
    add_ext(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) fail("X509_sign");
  return cert;
}

void write_pem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) fail("open " + path.string());
  const int ok = cert != nullptr ? PEM_write_bio_X509(bio.get(), cert)
                                 : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  if (ok != 1) fail("write " + path.string());
  // The hub refuses a client key others can read, as it refuses any other secret file.
  if (key != nullptr)
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

std::string serial_hex(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

}  // namespace

tls_files make_test_tls(const std::filesystem::path& dir, std::string_view name) {
  const std::string n(name);
  pkey_ptr ca_key = new_key();
  x509_ptr ca = new_cert("Schakel test CA " + n, ca_key.get(), nullptr, ca_key.get(), cert_kind::ca);
  pkey_ptr server_key = new_key();
  x509_ptr server = new_cert("localhost", server_key.get(), ca.get(), ca_key.get());

  tls_files out{dir / (n + "-ca.pem"), dir / (n + "-server.pem"), dir / (n + "-server-key.pem")};
  write_pem(out.ca_cert, ca.get(), nullptr);
  write_pem(out.server_cert, server.get(), nullptr);
  write_pem(out.server_key, nullptr, server_key.get());
  return out;
}

struct test_ca::impl {
  std::filesystem::path dir;
  pkey_ptr key;
  x509_ptr cert;
};

test_ca::test_ca(const std::filesystem::path& dir, std::string_view name) : impl_(std::make_unique<impl>()) {
  impl_->dir = dir;
  impl_->key = new_key();
  impl_->cert = new_cert("Schakel test client CA " + std::string(name), impl_->key.get(), nullptr, impl_->key.get(),
                         cert_kind::ca);
  ca_cert_ = dir / (std::string(name) + "-ca.pem");
  write_pem(ca_cert_, impl_->cert.get(), nullptr);
}

test_ca::~test_ca() = default;

client_files test_ca::issue_client(const std::string& file, const std::string& common_name,
                                   const std::string& organisation, const std::string& san) {
  pkey_ptr key = new_key();
  x509_ptr cert =
      new_cert(common_name, key.get(), impl_->cert.get(), impl_->key.get(), cert_kind::client, organisation, san);
  client_files out{impl_->dir / (file + ".pem"), impl_->dir / (file + "-key.pem"), serial_hex(cert.get())};
  write_pem(out.cert, cert.get(), nullptr);
  write_pem(out.key, nullptr, key.get());
  return out;
}

std::filesystem::path test_ca::write_crl(const std::string& file, const std::vector<client_files>& revoked) {
  std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(X509_CRL_new(), X509_CRL_free);
  if (!crl) fail("X509_CRL_new");
  X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(impl_->cert.get()));
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> last(X509_gmtime_adj(nullptr, -60), ASN1_TIME_free);
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> next(X509_gmtime_adj(nullptr, 7L * 24 * 3600), ASN1_TIME_free);
  X509_CRL_set1_lastUpdate(crl.get(), last.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const auto& r : revoked) {
    BIGNUM* bn = nullptr;
    if (BN_hex2bn(&bn, r.serial_hex.c_str()) == 0) fail("BN_hex2bn");
    X509_REVOKED* entry = X509_REVOKED_new();
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
    X509_REVOKED_set_serialNumber(entry, serial);
    X509_REVOKED_set_revocationDate(entry, last.get());
    X509_CRL_add0_revoked(crl.get(), entry);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), impl_->key.get(), EVP_sha256()) == 0) fail("X509_CRL_sign");
  const auto path = impl_->dir / file;
  bio_ptr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) fail("write " + path.string());
  return path;
}

}  // namespace schakel::test
