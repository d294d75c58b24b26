#include "audit/checkpoint.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/private_path.hpp"

namespace schakel::audit {
namespace {

using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error(file.string() + ": " + why);
}

std::string errno_text() {
  return std::error_code(errno, std::generic_category()).message();
}

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot read: " + errno_text());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/** Writes all of `bytes`, fsyncs and closes `fd`; false when any of it failed (errno says why). */
bool write_sync_close(int fd, const std::string& bytes) {
  std::size_t written = 0;
  bool ok = true;
  while (ok && written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  return (::close(fd) == 0) && ok;
}

/** Writes all of `bytes` to a new file (O_EXCL, `mode`) and fsyncs it. False when it already exists. */
bool create_file(const std::filesystem::path& file, const std::string& bytes, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    fail(file, "cannot create: " + errno_text());
  }
  const bool ok = write_sync_close(fd, bytes);
  if (!ok) fail(file, "cannot write: " + errno_text());
  return true;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string public_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  return bio_text(bio.get());
}

bool is_ed25519(EVP_PKEY* key) {
  return key != nullptr && EVP_PKEY_is_a(key, "ED25519") == 1;
}

}  // namespace

std::string signed_text(const checkpoint& c) {
  return "schakel-audit-checkpoint-v1\n" + std::to_string(c.seq) + "\n" + c.head + "\n" + std::to_string(c.time_ms) +
         "\n" + std::to_string(c.keyed_from) + "\n" + c.node;
}

std::string to_line(const checkpoint& c) {
  nlohmann::json j = {{"seq", c.seq},
                      {"head", c.head},
                      {"time_ms", c.time_ms},
                      {"node", c.node},
                      {"keyed_from", c.keyed_from},
                      {"signature", c.signature}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<checkpoint> from_line(const std::string& line) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  checkpoint c;
  auto integer = [&j](const char* key, std::int64_t& out) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return false;
    out = it->get<std::int64_t>();
    return true;
  };
  auto text = [&j](const char* key, std::string& out) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  if (!integer("seq", c.seq) || !integer("time_ms", c.time_ms) || !integer("keyed_from", c.keyed_from) ||
      !text("head", c.head) || !text("node", c.node) || !text("signature", c.signature))
    return std::nullopt;
  return c;
}

struct checkpoint_signer::impl {
  pkey_ptr key{nullptr, &EVP_PKEY_free};
};

checkpoint_signer checkpoint_signer::load_or_create(const std::filesystem::path& private_file,
                                                    const std::filesystem::path& public_file) {
  auto state = std::make_shared<impl>();
  std::error_code ec;
  if (!std::filesystem::exists(private_file, ec)) {
    state->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!state->key) fail(private_file, "cannot generate an Ed25519 key");
    bio_ptr bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), state->key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      fail(private_file, "cannot encode the new key");
    auto pem = bio_text(bio.get());
    // O_EXCL: a key that appeared meanwhile is kept and loaded below, never overwritten.
    const bool created = create_file(private_file, pem, 0600);
    OPENSSL_cleanse(pem.data(), pem.size());
    if (!created) state->key.reset();
  }
  if (!state->key) {
    require_private(private_file);
    auto pem = read_all(private_file);
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    state->key.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    OPENSSL_cleanse(pem.data(), pem.size());
    if (!is_ed25519(state->key.get())) fail(private_file, "not an Ed25519 private key (PEM)");
  }
  if (!std::filesystem::exists(public_file, ec)) {
    const auto pem = public_pem(state->key.get());
    if (pem.empty()) fail(public_file, "cannot encode the public key");
    create_file(public_file, pem, 0644);
  }
  checkpoint_signer s;
  s.impl_ = std::move(state);
  return s;
}

void checkpoint_signer::sign(checkpoint& c) const {
  const auto text = signed_text(c);
  md_ctx_ptr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char sig[64];
  std::size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1)
    throw std::runtime_error("audit checkpoint: Ed25519 signing failed");
  c.signature = encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(sig), len));
}

struct checkpoint_verifier::impl {
  pkey_ptr key{nullptr, &EVP_PKEY_free};
};

checkpoint_verifier checkpoint_verifier::load(const std::filesystem::path& public_file) {
  auto state = std::make_shared<impl>();
  const auto pem = read_all(public_file);
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  state->key.reset(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!is_ed25519(state->key.get())) fail(public_file, "not an Ed25519 public key (PEM)");
  checkpoint_verifier v;
  v.impl_ = std::move(state);
  return v;
}

bool checkpoint_verifier::verify(const checkpoint& c) const {
  if (c.signature.size() != 128) return false;
  std::string sig;
  for (std::size_t i = 0; i < c.signature.size(); i += 2) {
    unsigned value = 0;
    for (std::size_t k = i; k < i + 2; ++k) {
      const char ch = c.signature[k];
      const int digit = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
      if (digit < 0) return false;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    sig.push_back(static_cast<char>(value));
  }
  const auto text = signed_text(c);
  md_ctx_ptr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
}

void append_checkpoint(const std::filesystem::path& file, const checkpoint& c) {
  const auto line = to_line(c) + "\n";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) fail(file, "cannot open for appending: " + errno_text());
  const bool ok = write_sync_close(fd, line);
  if (!ok) fail(file, "cannot append a checkpoint: " + errno_text());
}

std::vector<checkpoint_line> read_checkpoints(const std::filesystem::path& file) {
  std::vector<checkpoint_line> out;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return out;
  std::ifstream in(file);
  if (!in) fail(file, "cannot read: " + errno_text());
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    out.push_back({n, from_line(line)});
  }
  return out;
}

checkpoint_writer::checkpoint_writer(checkpoint_signer signer, std::filesystem::path file, std::string node)
    : signer_(std::move(signer)), file_(std::move(file)), node_(std::move(node)) {
  for (auto& l : read_checkpoints(file_))
    if (l.value) last_ = std::move(l.value);
}

std::optional<checkpoint> checkpoint_writer::write_if_moved(std::int64_t seq, const std::string& head,
                                                            std::int64_t keyed_from, std::int64_t now_ms) {
  if (last_ && last_->seq == seq && last_->head == head && last_->keyed_from == keyed_from) return std::nullopt;
  checkpoint c;
  c.seq = seq;
  c.head = head;
  c.time_ms = now_ms;
  c.node = node_;
  c.keyed_from = keyed_from;
  signer_.sign(c);
  append_checkpoint(file_, c);
  last_ = c;
  return c;
}

}  // namespace schakel::audit
