// A disk that fills up while an event is being delivered, and then has room again: the daemon's
// data directory is a small tmpfs that the test fills and frees. Delivery must carry on by itself,
// without a restart, and without sending the event twice.
#include <sys/mount.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

/** A tmpfs of `size` mounted at `dir` for the test's lifetime (we run as root in CI). */
class tmpfs_mount {
 public:
  tmpfs_mount(const fs::path& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir_);
    const std::string opts = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~tmpfs_mount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

/** Writes `file` until the file system is full; returns the bytes written. */
std::uintmax_t fill(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) return 0;
  std::setvbuf(f, nullptr, _IONBF, 0);
  const std::string block(64 * 1024, 'f');
  std::uintmax_t written = 0;
  for (std::size_t size = block.size(); size > 0; size /= 2) {
    for (;;) {
      const auto n = std::fwrite(block.data(), 1, size, f);
      written += n;
      if (n < size) break;
    }
    std::clearerr(f);
  }
  std::fclose(f);
  return written;
}

bool logged(const std::string& log, const std::string& event, const std::string& op) {
  for (const auto& e : log_events(log, event))
    if (e.value("op", "") == op) return true;
  return false;
}

TEST(heal_disk, a_delivery_outcome_that_hit_a_full_disk_is_recorded_once_there_is_room_and_the_lane_moves_on) {
  temp_dir dir("schakel-heal-disk");
  tmpfs_mount disk(dir / "data", "16m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << disk.error();

  // A slow partner: the disk fills while it holds the first event, so what fails is the write of
  // that delivery's outcome.
  receiver_process receiver(dir.path(), {"--delay-ms", "1500"});
  hub_options o;
  o.webhook_url = receiver.url();
  auto cfg = hub_config(dir / "data", o);
  cfg["subscriptions"][0]["delivery"]["lanes"] = 1;
  hub_process hub(dir.path());
  hub.start(cfg);

  ASSERT_EQ(hub.post_records(absence_records(1, 0)).status, 200u) << hub.log();
  const fs::path filler = dir / "data" / "filler";
  ASSERT_GT(fill(filler), 0u);
  ASSERT_TRUE(wait_until([&] { return logged(hub.log(), "storage.job_failed", "mark_delivered"); }, 20s)) << hub.log();
  EXPECT_EQ(receiver.events().size(), 1u);

  // Room again: new records are taken, and the lane, which still holds the first event, goes on to them.
  fs::remove(filler);
  ASSERT_TRUE(wait_until([&] { return hub.post_records(absence_records(1, 1)).status == 200u; }, 20s)) << hub.log();
  EXPECT_TRUE(wait_until([&] { return receiver.events().size() >= 2; }, 20s))
      << "the lane stayed blocked after the disk had room again\n"
      << hub.log();
  // The first event's outcome was written again, not the event sent again.
  EXPECT_EQ(receiver.events().size(), 2u);
  EXPECT_EQ(receiver.distinct_events(), 2u);
  EXPECT_TRUE(logged(hub.log(), "delivery.outcome_recorded", "mark_delivered")) << hub.log();
  EXPECT_EQ(hub.process().terminate(SIGTERM, 20s), 0) << hub.log();
}

}  // namespace
}  // namespace schakel::test
