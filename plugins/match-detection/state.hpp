#pragma once
/**
 * Persisted per-student state of the match-detection processor and its compact JSON form, plus the
 * observed_at parsing it depends on. One value per student (key `stu:<BRIN>:<student_key>`): per role
 * only the latest concern-level signal (id, observed_at, health flag), and the open match if any.
 */
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace schakel::plugins::match_detection {

/** An observed_at reduced to what the rules need. */
struct instant {
  std::int64_t utc_ms = 0;  ///< orders signals ("latest per role")
  std::int32_t day = 0;     ///< the calendar date as written (local to the observer), days since 1970-01-01
};

/** Parses an RFC 3339 date-time with a zone (Z or ±hh:mm); nullopt when it is not one. */
std::optional<instant> parse_instant(std::string_view text);

struct role_entry {
  std::string id;           ///< the latest concern-level signal of this role
  std::string observed_at;  ///< its observed_at, as written
  instant at;               ///< parsed from observed_at (not stored separately)
  bool health = false;      ///< a health-category concern of this role was seen while the entry lived
};

struct open_match {
  std::set<std::string> roles;   ///< every role already told about in this match
  std::vector<std::string> ids;  ///< the match signals emitted (one per growth of the role set)
  bool health = false;           ///< any of them carried data_category health
};

struct student_state {
  std::map<std::string, role_entry> roles;  ///< by role
  std::optional<open_match> match;
  bool empty() const { return roles.empty() && !match; }
};

std::string student_state_key(std::string_view brin, std::string_view student_key);

/** "" for an empty state (nothing worth keeping). */
std::string serialize(const student_state& s);
/** "" parses as empty. Throws std::runtime_error (no content quoted) for a value this version did not write. */
student_state parse_student_state(std::string_view text);

}  // namespace schakel::plugins::match_detection
