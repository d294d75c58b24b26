#include "ingress/drop_folder.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using schakel::ingress::drop_folder;
using schakel::ingress::drop_folder_settings;
using schakel::ingress::file_result;
using schakel::test::temp_dir;
using schakel::test::wait_until;

namespace {

// SHA-256("abc"), FIPS 180-2 appendix B.1.
constexpr const char* abc_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/** Writes the way the documented convention asks: a dot-named temp file renamed into the folder. */
void drop(const fs::path& dir, const std::string& name, const std::string& content) {
  const fs::path temp = dir / ("." + name + ".tmp");
  write_file(temp, content);
  fs::rename(temp, dir / name);
}

struct call {
  std::string file_name;
  std::string body;
  std::string content_type;
  std::string digest;
};

/** Records every ingest call and answers with `next` (or what `respond` computes). */
struct fake_daemon {
  std::mutex mutex;
  std::vector<call> calls;
  std::set<std::string> committed;
  std::function<file_result(const call&)> respond = [](const call& c) {
    file_result r;
    r.accepted = c.body.empty() ? 0 : 1;
    return r;
  };

  schakel::ingress::ingest_file_fn ingest() {
    return [this](const std::string& name, std::string body, const std::string& type, const std::string& digest) {
      std::lock_guard lock(mutex);
      calls.push_back({name, std::move(body), type, digest});
      file_result r = respond(calls.back());
      if (r.result != file_result::outcome::retry_later) committed.insert(digest);
      return r;
    };
  }
  schakel::ingress::already_ingested_fn seen() {
    return [this](const std::string& digest) {
      std::lock_guard lock(mutex);
      return committed.count(digest) > 0;
    };
  }
  std::size_t call_count() {
    std::lock_guard lock(mutex);
    return calls.size();
  }
};

drop_folder_settings fast_settings(const fs::path& dir) {
  drop_folder_settings s;
  s.dir = dir;
  s.poll_interval = 10ms;
  s.settle = 0ms;
  return s;
}

nlohmann::json read_report(const fs::path& path) {
  const std::string text = read_text(path);
  return nlohmann::json::parse(text);
}

/** "2026-01-05T07:00:02.123Z" (milliseconds, as format_rfc3339 writes). */
bool looks_like_rfc3339_utc(const std::string& text) {
  const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(drop_folder, creates_the_folder_with_archive_and_quarantine) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  const fs::path dir = tmp / "nested/drop";
  drop_folder folder("lvs", fast_settings(dir), daemon.ingest(), daemon.seen());
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_TRUE(fs::is_directory(dir / "archive"));
  EXPECT_TRUE(fs::is_directory(dir / "quarantine"));
}

TEST(drop_folder, stable_file_is_ingested_once_and_archived) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "export.csv", "abc");

  EXPECT_EQ(folder.scan_once(), 1u);
  ASSERT_EQ(daemon.call_count(), 1u);
  EXPECT_EQ(daemon.calls[0].file_name, "export.csv");
  EXPECT_EQ(daemon.calls[0].body, "abc");
  EXPECT_EQ(daemon.calls[0].content_type, "text/csv");
  EXPECT_EQ(daemon.calls[0].digest, abc_sha256);
  EXPECT_FALSE(fs::exists(tmp / "export.csv"));
  EXPECT_EQ(read_text(tmp / "archive/export.csv"), "abc");
  EXPECT_TRUE(fs::is_empty(tmp / "quarantine"));

  EXPECT_EQ(folder.scan_once(), 0u);
  EXPECT_EQ(daemon.call_count(), 1u);
}

TEST(drop_folder, just_written_file_is_not_read_until_settled) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder_settings settings = fast_settings(tmp.path());
  settings.settle = 200ms;
  drop_folder folder("lvs", settings, daemon.ingest(), daemon.seen());
  const fs::path file = tmp / "export.csv";
  write_file(file, "abc");
  fs::last_write_time(file, fs::file_time_type::clock::now());

  // Unchanged over two scans but younger than settle: not read.
  EXPECT_EQ(folder.scan_once(), 0u);
  EXPECT_EQ(folder.scan_once(), 0u);
  EXPECT_EQ(daemon.call_count(), 0u);

  // Old enough now, but the mtime differs from the last scan's: one more scan must confirm it.
  fs::last_write_time(file, fs::file_time_type::clock::now() - 1s);
  EXPECT_EQ(folder.scan_once(), 0u);
  EXPECT_EQ(daemon.call_count(), 0u);

  EXPECT_EQ(folder.scan_once(), 1u);
  ASSERT_EQ(daemon.call_count(), 1u);
  EXPECT_EQ(daemon.calls[0].body, "abc");
  EXPECT_TRUE(fs::exists(tmp / "archive/export.csv"));
}

TEST(drop_folder, file_that_grows_between_scans_waits_again) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder_settings settings = fast_settings(tmp.path());
  settings.settle = 200ms;
  drop_folder folder("lvs", settings, daemon.ingest(), daemon.seen());
  const fs::path file = tmp / "export.csv";
  const auto old = fs::file_time_type::clock::now() - 10s;
  write_file(file, "ab");
  fs::last_write_time(file, old);
  EXPECT_EQ(folder.scan_once(), 0u);  // first sighting

  // A writer that preserves an old mtime (cp -p, unzip) but is still appending.
  {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << "c";
  }
  fs::last_write_time(file, old);
  EXPECT_EQ(folder.scan_once(), 0u);
  EXPECT_EQ(daemon.call_count(), 0u);

  EXPECT_EQ(folder.scan_once(), 1u);
  ASSERT_EQ(daemon.call_count(), 1u);
  EXPECT_EQ(daemon.calls[0].body, "abc");
}

TEST(drop_folder, temp_dot_and_report_names_and_subfolders_are_ignored) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  const std::vector<std::string> ignored = {".hidden.csv", "x.csv.tmp", "x.csv.TMP",   "x.csv.part",
                                            "x.partial",   "x.csv~",    "y.error.json"};
  for (const auto& name : ignored) write_file(tmp / name, "abc");
  fs::create_directory(tmp / "sub");
  write_file(tmp / "sub/inner.csv", "abc");
  write_file(tmp / "archive/old.csv", "abc");

  EXPECT_EQ(folder.scan_once(), 0u);
  EXPECT_EQ(daemon.call_count(), 0u);
  for (const auto& name : ignored) EXPECT_TRUE(fs::exists(tmp / name)) << name;
  EXPECT_TRUE(fs::exists(tmp / "sub/inner.csv"));
  EXPECT_TRUE(fs::exists(tmp / "archive/old.csv"));

  for (const auto& name : ignored) EXPECT_TRUE(drop_folder::is_ignored_name(name)) << name;
  EXPECT_FALSE(drop_folder::is_ignored_name("export.csv"));
  EXPECT_FALSE(drop_folder::is_ignored_name("tmp.csv"));
}

TEST(drop_folder, partial_rejections_go_to_quarantine_with_an_exact_report) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  daemon.respond = [](const call&) {
    file_result r;
    r.accepted = 3;
    r.rejected.push_back({2, "uren", "not a number"});
    r.rejected.push_back({5, "", "too few columns"});
    return r;
  };
  drop_folder folder("lvs-noord", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "2026-01-05.csv", "abc");

  EXPECT_EQ(folder.scan_once(), 1u);
  EXPECT_FALSE(fs::exists(tmp / "2026-01-05.csv"));
  EXPECT_TRUE(fs::is_empty(tmp / "archive"));
  EXPECT_EQ(names_in(tmp / "quarantine"),
            (std::vector<std::string>{"2026-01-05.csv", "2026-01-05.csv.error.json"}));  // no temp file left
  EXPECT_EQ(read_text(tmp / "quarantine/2026-01-05.csv"), "abc");

  const nlohmann::json report = read_report(tmp / "quarantine/2026-01-05.csv.error.json");
  const auto received_at = report.at("received_at").get<std::string>();
  EXPECT_TRUE(looks_like_rfc3339_utc(received_at)) << received_at;
  nlohmann::json expected = {{"file", "2026-01-05.csv"},
                             {"instance", "lvs-noord"},
                             {"sha256", abc_sha256},
                             {"received_at", received_at},
                             {"accepted", 3},
                             {"rejected",
                              {{{"line", 2}, {"field", "uren"}, {"reason", "not a number"}},
                               {{"line", 5}, {"field", ""}, {"reason", "too few columns"}}}},
                             {"error", "2 lines rejected"}};
  EXPECT_EQ(report, expected) << report.dump(2);
}

TEST(drop_folder, unparseable_file_goes_to_quarantine) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  daemon.respond = [](const call&) {
    file_result r;
    r.result = file_result::outcome::unparseable;
    r.error = "line 1: expected a header row";
    return r;
  };
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "bad.json", "abc");

  EXPECT_EQ(folder.scan_once(), 1u);
  ASSERT_EQ(daemon.call_count(), 1u);
  EXPECT_EQ(daemon.calls[0].content_type, "application/json");
  EXPECT_TRUE(fs::exists(tmp / "quarantine/bad.json"));
  const nlohmann::json report = read_report(tmp / "quarantine/bad.json.error.json");
  EXPECT_EQ(report.at("error"), "line 1: expected a header row");
  EXPECT_EQ(report.at("accepted"), 0);
  EXPECT_EQ(report.at("rejected"), nlohmann::json::array());
  EXPECT_EQ(report.at("file"), "bad.json");
}

TEST(drop_folder, retry_later_leaves_the_file_and_a_later_scan_succeeds) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  bool store_down = true;
  daemon.respond = [&store_down](const call&) {
    file_result r;
    if (store_down) {
      r.result = file_result::outcome::retry_later;
      r.error = "store busy";
    } else {
      r.accepted = 1;
    }
    return r;
  };
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "a.csv", "abc");
  drop(tmp.path(), "b.csv", "def");

  EXPECT_EQ(folder.scan_once(), 0u);
  EXPECT_EQ(folder.scan_once(), 0u);
  // The pass stops at the first retry_later: b.csv is not tried behind a.csv's back.
  ASSERT_EQ(daemon.call_count(), 2u);
  EXPECT_EQ(daemon.calls[0].file_name, "a.csv");
  EXPECT_EQ(daemon.calls[1].file_name, "a.csv");
  EXPECT_TRUE(fs::exists(tmp / "a.csv"));
  EXPECT_TRUE(fs::is_empty(tmp / "quarantine"));

  store_down = false;
  EXPECT_EQ(folder.scan_once(), 2u);
  EXPECT_EQ(names_in(tmp / "archive"), (std::vector<std::string>{"a.csv", "b.csv"}));
}

TEST(drop_folder, already_ingested_digest_is_archived_without_ingesting) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  daemon.committed.insert(abc_sha256);
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "again.csv", "abc");

  EXPECT_EQ(folder.scan_once(), 1u);
  EXPECT_EQ(daemon.call_count(), 0u);
  EXPECT_EQ(read_text(tmp / "archive/again.csv"), "abc");
}

TEST(drop_folder, name_collisions_in_archive_get_a_number_before_the_extension) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "export.csv", "one");
  EXPECT_EQ(folder.scan_once(), 1u);
  drop(tmp.path(), "export.csv", "two");
  EXPECT_EQ(folder.scan_once(), 1u);
  drop(tmp.path(), "export.csv", "one");  // the same export dropped twice: archived, not re-ingested
  EXPECT_EQ(folder.scan_once(), 1u);
  drop(tmp.path(), "export", "three");
  drop(tmp.path(), "export.tar.gz", "four");
  write_file(tmp / "archive/export", "x");
  write_file(tmp / "archive/export.tar.gz", "x");
  EXPECT_EQ(folder.scan_once(), 2u);

  EXPECT_EQ(daemon.call_count(), 4u);
  EXPECT_EQ(read_text(tmp / "archive/export.csv"), "one");
  EXPECT_EQ(read_text(tmp / "archive/export.1.csv"), "two");
  EXPECT_EQ(read_text(tmp / "archive/export.2.csv"), "one");
  EXPECT_EQ(read_text(tmp / "archive/export.1"), "three");
  EXPECT_EQ(read_text(tmp / "archive/export.tar.1.gz"), "four");
}

TEST(drop_folder, quarantine_collision_keeps_file_and_report_paired) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  daemon.respond = [](const call&) {
    file_result r;
    r.result = file_result::outcome::unparseable;
    r.error = "not csv";
    return r;
  };
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "x.csv", "one");
  EXPECT_EQ(folder.scan_once(), 1u);
  drop(tmp.path(), "x.csv", "two");
  EXPECT_EQ(folder.scan_once(), 1u);
  EXPECT_EQ(names_in(tmp / "quarantine"),
            (std::vector<std::string>{"x.1.csv", "x.1.csv.error.json", "x.csv", "x.csv.error.json"}));
  EXPECT_EQ(read_text(tmp / "quarantine/x.1.csv"), "two");
  EXPECT_EQ(read_report(tmp / "quarantine/x.1.csv.error.json").at("file"), "x.csv");
}

TEST(drop_folder, too_large_file_is_quarantined_unread) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder_settings settings = fast_settings(tmp.path());
  settings.max_file_bytes = 2;
  drop_folder folder("lvs", settings, daemon.ingest(), daemon.seen());
  drop(tmp.path(), "big.ndjson", "abc");
  drop(tmp.path(), "small.ndjson", "ab");

  EXPECT_EQ(folder.scan_once(), 2u);
  ASSERT_EQ(daemon.call_count(), 1u);
  EXPECT_EQ(daemon.calls[0].file_name, "small.ndjson");  // exactly the limit is fine
  EXPECT_EQ(daemon.calls[0].content_type, "application/x-ndjson");
  EXPECT_EQ(read_text(tmp / "quarantine/big.ndjson"), "abc");
  const nlohmann::json report = read_report(tmp / "quarantine/big.ndjson.error.json");
  EXPECT_EQ(report.at("error"), "file exceeds max_file_bytes (2 bytes)");
  EXPECT_EQ(report.at("accepted"), 0);
  EXPECT_EQ(report.at("sha256"), abc_sha256);
}

TEST(drop_folder, files_are_taken_in_name_order) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  for (const char* name : {"2026-01-07.csv", "2026-01-05.csv", "2026-01-06.csv"}) drop(tmp.path(), name, name);

  EXPECT_EQ(folder.scan_once(), 3u);
  ASSERT_EQ(daemon.call_count(), 3u);
  EXPECT_EQ(daemon.calls[0].file_name, "2026-01-05.csv");
  EXPECT_EQ(daemon.calls[1].file_name, "2026-01-06.csv");
  EXPECT_EQ(daemon.calls[2].file_name, "2026-01-07.csv");
}

TEST(drop_folder, thread_picks_up_a_dropped_file_and_stops) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  folder.start();
  folder.start();  // a second start is a no-op
  drop(tmp.path(), "export.csv", "abc");
  EXPECT_TRUE(wait_until([&] { return fs::exists(tmp / "archive/export.csv"); }));
  folder.stop();
  EXPECT_EQ(daemon.call_count(), 1u);
  EXPECT_FALSE(fs::exists(tmp / "export.csv"));

  // scan_once still works after stop(), and start() again resumes.
  drop(tmp.path(), "second.csv", "def");
  EXPECT_EQ(folder.scan_once(), 1u);
  folder.start();
  drop(tmp.path(), "third.csv", "ghi");
  EXPECT_TRUE(wait_until([&] { return fs::exists(tmp / "archive/third.csv"); }));
}

TEST(drop_folder, stop_interrupts_the_poll_sleep) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  drop_folder_settings settings = fast_settings(tmp.path());
  settings.poll_interval = std::chrono::hours(1);
  drop_folder folder("lvs", settings, daemon.ingest(), daemon.seen());
  drop(tmp.path(), "export.csv", "abc");
  folder.start();
  // The first pass runs at once; then the thread sleeps for an hour unless stop wakes it.
  EXPECT_TRUE(wait_until([&] { return fs::exists(tmp / "archive/export.csv"); }));
  const auto before = std::chrono::steady_clock::now();
  folder.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
}

TEST(drop_folder, stop_waits_for_the_file_in_flight) {
  temp_dir tmp("schakel-drop");
  fake_daemon daemon;
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  daemon.respond = [&](const call&) {
    entered = true;
    wait_until([&] { return release.load(); });
    file_result r;
    r.accepted = 1;
    return r;
  };
  drop_folder folder("lvs", fast_settings(tmp.path()), daemon.ingest(), daemon.seen());
  drop(tmp.path(), "a.csv", "abc");
  drop(tmp.path(), "b.csv", "def");
  folder.start();
  ASSERT_TRUE(wait_until([&] { return entered.load(); }));
  std::thread stopper([&] { folder.stop(); });
  release = true;
  stopper.join();
  // Whatever stop() caught in flight was finished: every file handed to ingest has been moved.
  const std::size_t calls = daemon.call_count();
  ASSERT_GE(calls, 1u);
  for (std::size_t i = 0; i < calls; ++i) {
    EXPECT_TRUE(fs::exists(tmp / "archive" / daemon.calls[i].file_name)) << daemon.calls[i].file_name;
    EXPECT_FALSE(fs::exists(tmp / daemon.calls[i].file_name)) << daemon.calls[i].file_name;
  }
}

TEST(drop_folder, restart_after_commit_before_move_archives_without_reingesting) {
  temp_dir tmp("schakel-drop");
  std::set<std::string> committed;  // what the store holds across the "crash"
  std::size_t first_calls = 0;
  {
    // First process: the store commits the file's signals and digest, then the process dies before
    // the move (modelled by the ingest function throwing after the commit).
    auto ingest = [&](const std::string&, std::string, const std::string&, const std::string& digest) -> file_result {
      ++first_calls;
      committed.insert(digest);
      throw std::runtime_error("simulated crash after commit");
    };
    auto seen = [&](const std::string& digest) { return committed.count(digest) > 0; };
    drop_folder first("lvs", fast_settings(tmp.path()), ingest, seen);
    drop(tmp.path(), "export.csv", "abc");
    EXPECT_EQ(first.scan_once(), 0u);
  }
  EXPECT_EQ(first_calls, 1u);
  EXPECT_TRUE(fs::exists(tmp / "export.csv"));  // still in place, as after a crash
  EXPECT_EQ(committed, (std::set<std::string>{abc_sha256}));

  // Second process: same folder, same store.
  std::size_t second_calls = 0;
  auto ingest = [&](const std::string&, std::string, const std::string&, const std::string&) {
    ++second_calls;
    return file_result{};
  };
  auto seen = [&](const std::string& digest) { return committed.count(digest) > 0; };
  drop_folder second("lvs", fast_settings(tmp.path()), ingest, seen);
  EXPECT_EQ(second.scan_once(), 1u);
  EXPECT_EQ(second_calls, 0u);
  EXPECT_FALSE(fs::exists(tmp / "export.csv"));
  EXPECT_EQ(read_text(tmp / "archive/export.csv"), "abc");
}

TEST(drop_folder, content_type_follows_the_extension) {
  EXPECT_EQ(drop_folder::content_type_for("a.csv"), "text/csv");
  EXPECT_EQ(drop_folder::content_type_for("/x/A.CSV"), "text/csv");
  EXPECT_EQ(drop_folder::content_type_for("a.json"), "application/json");
  EXPECT_EQ(drop_folder::content_type_for("a.ndjson"), "application/x-ndjson");
  EXPECT_EQ(drop_folder::content_type_for("a.xml"), "application/octet-stream");
  EXPECT_EQ(drop_folder::content_type_for("csv"), "application/octet-stream");
}
