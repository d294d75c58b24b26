#include "common/signal.hpp"

#include <set>

#include <gtest/gtest.h>

namespace schakel {

TEST(signal_id, is_26_crockford_characters_and_strictly_increasing) {
  std::string previous;
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    auto id = new_signal_id();
    ASSERT_EQ(id.size(), 26u);
    ASSERT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos) << id;
    ASSERT_LT(previous, id);
    previous = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(signal_id, time_prefix_follows_the_clock) {
  auto a = new_signal_id();
  EXPECT_LE(a.substr(0, 10), new_signal_id().substr(0, 10));
}

TEST(severity, parses_the_four_levels_in_order) {
  EXPECT_EQ(parse_severity("info"), severity::info);
  EXPECT_EQ(parse_severity("urgent"), severity::urgent);
  EXPECT_FALSE(parse_severity("Urgent").has_value());
  EXPECT_LT(*parse_severity("attention"), *parse_severity("concern"));
  EXPECT_EQ(to_string(severity::concern), "concern");
}

}  // namespace schakel
namespace schakel {
TEST(rfc3339, formats_epoch_milliseconds_in_utc) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(1795867200123), "2026-11-28T12:00:00.123Z");
}
}  // namespace schakel
