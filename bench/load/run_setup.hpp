#pragma once
// What each harness run sets up for itself: fresh tokens and a webhook secret (nothing a benchmark
// prints or leaves behind is valid for another run) and a work directory of its own.

#include <stdlib.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "common/encoding.hpp"

namespace schakel::load {

inline std::string random_bytes(std::size_t n) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string out(n, '\0');
  if (!in.read(out.data(), static_cast<std::streamsize>(n))) throw std::runtime_error("cannot read /dev/urandom");
  return out;
}

/** 48 hex digits: an ingest or admin bearer token. */
inline std::string random_token() {
  return encoding::hex_encode(random_bytes(24));
}

/** A Standard Webhooks secret (`whsec_` + base64 of 24 bytes). */
inline std::string random_webhook_secret() {
  return "whsec_" + encoding::base64_encode(random_bytes(24));
}

/** A fresh directory `<base or the temp dir>/<prefix>XXXXXX`, removed at the end unless kept. */
struct run_dir {
  std::filesystem::path path;
  bool keep = false;
  run_dir(const std::string& base, const std::string& prefix, bool keep_it) : keep(keep_it) {
    namespace fs = std::filesystem;
    std::string tmpl =
        (fs::path(base.empty() ? fs::temp_directory_path().string() : base) / (prefix + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("cannot create a work dir under " + tmpl);
    path = tmpl;
  }
  ~run_dir() {
    std::error_code ec;
    if (!keep) std::filesystem::remove_all(path, ec);
  }
  run_dir(const run_dir&) = delete;
  run_dir& operator=(const run_dir&) = delete;
};

}  // namespace schakel::load
