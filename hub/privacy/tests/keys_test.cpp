#include "privacy/keys.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "key_temp_dir.hpp"

namespace schakel::privacy {
namespace {

namespace fs = std::filesystem;

fs::path write_file(const fs::path& file, const std::string& content,
                    fs::perms mode = fs::perms::owner_read | fs::perms::owner_write) {
  {
    std::ofstream out(file, std::ios::binary);
    out << content;
  }
  fs::permissions(file, mode);
  return file;
}

std::string bytes_0_to_31() {
  std::string s;
  for (int i = 0; i < 32; ++i) s.push_back(static_cast<char>(i));
  return s;
}

/** Independent RFC 4648 base32 decoder, so the encoder is checked against the bytes, not against itself. */
std::string base32_decode(const std::string& text) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (const char c : text) {
    const unsigned v = (c >= 'a' && c <= 'z') ? static_cast<unsigned>(c - 'a') : static_cast<unsigned>(c - '2' + 26);
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string hex_decode(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::int64_t ms_of(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  const sys_days midnight = year{y} / month{m} / day{d};
  return duration_cast<milliseconds>(midnight.time_since_epoch()).count();
}

TEST(keyed_hash, rfc4231_case2_truncated_and_base32) {
  // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
  const std::string full = hex_decode("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string h = keyed_hash("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(h.size(), 32u);
  EXPECT_EQ(base32_decode(h), full.substr(0, 20));
  EXPECT_EQ(h, "lpomcrv7mb2u42qeeqtarflvy5naapyi");
}

TEST(keyed_hash, rfc4231_case1) {
  // Test case 1: key 20 x 0x0b, "Hi There" -> b0344c61d8db38535ca8afceaf0bf12b881dc200...
  const std::string h = keyed_hash(std::string(20, '\x0b'), "Hi There");
  EXPECT_EQ(base32_decode(h), hex_decode("b0344c61d8db38535ca8afceaf0bf12b881dc200"));
  EXPECT_EQ(h, "wa2eyyoy3m4fgxfiv7hk6c7rfoeb3qqa");
}

TEST(keyed_hash, lowercase_base32_alphabet_only) {
  const std::string h = keyed_hash(bytes_0_to_31(), subject_identity("01AB", "12345"));
  EXPECT_EQ(h, "wfmf2p2m2gsqssuot3rgpl6rkpswja2l");
  for (const char c : h) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << c;
}

TEST(keyed_hash, stable_for_one_key_different_across_keys) {
  const std::string k1(32, 'a');
  const std::string k2(32, 'b');
  const std::string id = subject_identity("01AB", "12345");
  EXPECT_EQ(keyed_hash(k1, id), keyed_hash(k1, id));
  EXPECT_NE(keyed_hash(k1, id), keyed_hash(k2, id));
  EXPECT_NE(keyed_hash(k1, id), keyed_hash(k1, subject_identity("01AC", "12345")));
}

TEST(subject_identity, brin_colon_key) {
  EXPECT_EQ(subject_identity("01AB", "12345"), "01AB:12345");
}

TEST(load_key_file, hex_text_with_newline) {
  temp_dir dir;
  const auto f = write_file(dir.path() / "k", "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n");
  EXPECT_EQ(load_key_file(f), bytes_0_to_31());
}

TEST(load_key_file, base64_text) {
  temp_dir dir;
  const auto f = write_file(dir.path() / "k", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
  EXPECT_EQ(load_key_file(f), bytes_0_to_31());
}

TEST(load_key_file, raw_bytes) {
  temp_dir dir;
  std::string raw = bytes_0_to_31() + "\xff\xfe\n";
  const auto f = write_file(dir.path() / "k", raw);
  EXPECT_EQ(load_key_file(f), raw);
}

TEST(load_key_file, short_hex_refused_without_key_bytes) {
  temp_dir dir;
  const std::string hex = "00112233445566778899aabbccddeeff";  // 16 bytes
  const auto f = write_file(dir.path() / "short", hex + "\n");
  try {
    (void)load_key_file(f);
    FAIL() << "short key accepted";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(f.string() + ": key too short"), std::string::npos) << what;
    EXPECT_EQ(what.find(hex), std::string::npos) << what;
  }
}

TEST(load_key_file, short_raw_refused) {
  temp_dir dir;
  const auto f = write_file(dir.path() / "short", "not a key at all!");
  EXPECT_THROW((void)load_key_file(f), std::runtime_error);
}

TEST(load_key_file, group_or_world_readable_refused) {
  temp_dir dir;
  using fs::perms;
  for (const perms extra : {perms::others_read, perms::group_read, perms::group_write}) {
    const auto f =
        write_file(dir.path() / "open", std::string(64, 'a'), perms::owner_read | perms::owner_write | extra);
    try {
      (void)load_key_file(f);
      FAIL() << "readable key accepted";
    } catch (const std::runtime_error& e) {
      // The same words as the data directory's check: the path, its mode and the chmod that fixes it.
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(f.string() + " is ", 0), 0u) << what;
      EXPECT_NE(what.find("; fix: chmod 600 " + f.string()), std::string::npos) << what;
    }
  }
}

TEST(load_key_file, missing_file) {
  temp_dir dir;
  try {
    (void)load_key_file(dir.path() / "nope");
    FAIL() << "missing file accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "nope").string() + ": not found");
  }
}

TEST(load_or_create_key_file, creates_0600_hex_then_reuses) {
  temp_dir dir;
  const auto f = dir.path() / "hub.key";
  const std::string key = load_or_create_key_file(f);
  EXPECT_EQ(key.size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(f);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(load_or_create_key_file(f), key);  // never overwritten
  EXPECT_EQ(load_key_file(f), key);
}

TEST(load_or_create_key_file, missing_directory_is_an_error) {
  temp_dir dir;
  EXPECT_THROW((void)load_or_create_key_file(dir.path() / "no-such-dir" / "hub.key"), std::runtime_error);
  EXPECT_FALSE(fs::exists(dir.path() / "no-such-dir"));
}

TEST(load_or_create_key_file, two_calls_give_different_keys_in_different_files) {
  temp_dir dir;
  EXPECT_NE(load_or_create_key_file(dir.path() / "a"), load_or_create_key_file(dir.path() / "b"));
}

class key_ring_test : public ::testing::Test {
 protected:
  config::pseudonym_key key(const std::string& id, char fill, std::string from, std::string until) {
    const auto f = write_file(dir_.path() / id, std::string(64, fill));
    return config::pseudonym_key{id, f.string(), std::move(from), std::move(until)};
  }
  temp_dir dir_;
};

TEST_F(key_ring_test, overlap_window_gives_both_newest_first) {
  const key_ring ring({key("2026", 'a', "2026-01-01", "2026-12-31"), key("2027", 'b', "2026-12-01", "")});
  const auto p = ring.pseudonyms("01AB:1", ms_of(2026, 12, 15) + std::int64_t{13} * 3600 * 1000);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].key_id, "2027");
  EXPECT_EQ(p[1].key_id, "2026");
  EXPECT_EQ(p[0].value, keyed_hash(std::string(32, '\xbb'), "01AB:1"));  // 64 x 'b' is hex text
  EXPECT_NE(p[0].value, p[1].value);
}

TEST_F(key_ring_test, boundaries_are_utc_days) {
  const key_ring ring({key("k", 'a', "2026-03-10", "2026-03-20")});
  const std::int64_t last_ms_of_day = std::int64_t{24} * 3600 * 1000 - 1;
  EXPECT_TRUE(ring.pseudonyms("x", ms_of(2026, 3, 9) + last_ms_of_day).empty());    // day before active_from
  EXPECT_EQ(ring.pseudonyms("x", ms_of(2026, 3, 10)).size(), 1u);                   // active_from itself
  EXPECT_EQ(ring.pseudonyms("x", ms_of(2026, 3, 20) + last_ms_of_day).size(), 1u);  // retire_after day itself
  EXPECT_TRUE(ring.pseudonyms("x", ms_of(2026, 3, 21)).empty());                    // the day after
}

TEST_F(key_ring_test, open_ended_keys_and_order) {
  // Empty active_from counts as the oldest; order does not depend on configuration order.
  const key_ring ring(
      {key("new", 'b', "2025-06-01", ""), key("always", 'a', "", ""), key("mid", 'c', "2024-01-01", "")});
  const auto p = ring.pseudonyms("x", ms_of(2030, 1, 1));
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].key_id, "new");
  EXPECT_EQ(p[1].key_id, "mid");
  EXPECT_EQ(p[2].key_id, "always");
}

TEST_F(key_ring_test, bad_key_file_names_key_id) {
  const auto f = write_file(dir_.path() / "short", "abcd");
  try {
    key_ring ring({config::pseudonym_key{"2026", f.string(), "", ""}});
    FAIL() << "short key accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("pseudonym key 2026: " + f.string() + ": ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace schakel::privacy
