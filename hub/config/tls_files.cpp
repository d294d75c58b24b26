#include "config/tls_files.hpp"

#include <cctype>
#include <memory>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace schakel::config {

namespace {

struct bio_free {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;

bio_ptr open_file(const std::string& file) {
  return bio_ptr(BIO_new_file(file.c_str(), "r"));
}

/** Every certificate of a PEM file; an unreadable or empty file gives none. */
std::vector<std::unique_ptr<X509, decltype(&X509_free)>> read_certificates(const std::string& file) {
  std::vector<std::unique_ptr<X509, decltype(&X509_free)>> out;
  bio_ptr bio = open_file(file);
  if (!bio) return out;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(cert, X509_free);
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  // A trailing space escaped with a backslash belongs to the value.
  while (!s.empty() && s.back() == ' ' && !(s.size() >= 2 && s[s.size() - 2] == '\\')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::optional<std::string> certificate_file_problem(const std::string& file) {
  if (!open_file(file)) return "cannot read file " + file;
  if (read_certificates(file).empty()) return file + " holds no PEM certificate";
  return std::nullopt;
}

std::optional<std::string> crl_file_problem(const std::string& crl_file, const std::string& ca_file) {
  bio_ptr bio = open_file(crl_file);
  if (!bio) return "cannot read file " + crl_file;
  const auto cas = read_certificates(ca_file);
  std::size_t count = 0;
  while (X509_CRL* raw = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(raw, X509_CRL_free);
    ++count;
    bool signed_by_ca = false;
    for (const auto& ca : cas) {
      if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(ca.get())) != 0) continue;
      EVP_PKEY* key = X509_get0_pubkey(ca.get());
      if (key != nullptr && X509_CRL_verify(crl.get(), key) == 1) signed_by_ca = true;
    }
    if (!signed_by_ca)
      return crl_file + ": revocation list " + std::to_string(count) +
             " is not signed by a certificate in client_ca_file (each client would fail its revocation check)";
  }
  ERR_clear_error();
  if (count == 0) return crl_file + " holds no PEM revocation list (X509 CRL)";
  return std::nullopt;
}

std::optional<std::string> key_file_problem(const std::string& key_file, const std::string& cert_file) {
  bio_ptr bio = open_file(key_file);
  if (!bio) return "cannot read file " + key_file;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  ERR_clear_error();
  if (!key) return key_file + " holds no unencrypted PEM private key";
  const auto certs = read_certificates(cert_file);
  if (!certs.empty() && X509_check_private_key(certs.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return key_file + " is not the key of the certificate in " + cert_file;
  }
  return std::nullopt;
}

std::optional<std::string> canonical_subject(std::string_view text) {
  std::vector<std::string> parts;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      current += c;
      current += text[++i];
    } else if (c == ',' || c == '+') {
      parts.push_back(trim(current));
      parts.emplace_back(1, c);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(trim(current));
  std::string out;
  for (const auto& part : parts) {
    if (part == "," || part == "+") {
      out += part;
      continue;
    }
    const auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) return std::nullopt;
    std::string type = trim(std::string_view(part).substr(0, eq));
    for (auto& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const std::string value = trim(std::string_view(part).substr(eq + 1));
    if (type.empty() || value.empty()) return std::nullopt;
    out += type + "=" + value;
  }
  return out;
}

}  // namespace schakel::config
