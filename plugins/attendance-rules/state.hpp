#pragma once
/**
 * Persisted per-student state of the attendance-rules processor and its compact JSON form. One value
 * per student (key `stu:<BRIN>:<student_key>`) holding the retained records (only the fields the rules
 * use), the alerts already emitted, and the subject of the latest record; plus one index per
 * (source instance, BRIN) of the student keys with records from that instance, for snapshots.
 */
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/sdk/fingerprint.hpp"
#include "settings.hpp"

namespace schakel::plugins::attendance_rules {

struct stored_record {
  std::string instance;   ///< source.instance of the record (identity, snapshots)
  std::string record_id;  ///< source.record_id (identity)
  std::int32_t day = 0;
  category cat = category::other;
  std::optional<int> lessons;
  std::optional<int> minutes;
  bool whole_day = false;
  std::optional<int> age;
  std::optional<bool> basic_qualification;
  std::string snapshot;   ///< evidence.snapshot, empty when not in snapshot mode
  std::string vestiging;  ///< subject.school.vestiging of the record, may be empty
  std::string signal_id;
};

struct stored_alert {
  std::string id;  ///< the id the host gave the emitted signal
  std::string type;
  std::int32_t day = 0;
  std::string fingerprint;  ///< hash of type + evidence as last told (sent or updated): a change is an update
  nlohmann::ordered_json evidence = nlohmann::ordered_json::object();  ///< as last told
  std::vector<std::int32_t> used;
  std::string referred_id;  ///< the mazl.referred signal, once emitted
  /// What the referral added to the alert's evidence (parents_informed_on, informed_by, referral), so an
  /// update of the alert can update the referral with the same fields. Empty in states written before.
  nlohmann::ordered_json referral_extra = nlohmann::ordered_json::object();
};

struct student_state {
  nlohmann::ordered_json subject = nlohmann::ordered_json::object();  ///< of the latest record
  std::map<std::string, stored_record> records;                       ///< by record_identity()
  std::map<std::string, stored_alert> alerts;                         ///< by alert key
};

/** The map key of a record: instance and record id, separated by a byte neither can usefully hold. */
std::string record_identity(std::string_view instance, std::string_view record_id);

std::string student_state_key(std::string_view brin, std::string_view student_key);
std::string index_state_key(std::string_view instance, std::string_view brin);

std::string serialize(const student_state& s);
/** Throws std::runtime_error (no content quoted) when the value is not a state this version wrote. */
student_state parse_student_state(std::string_view text);

std::string serialize_index(const std::set<std::string>& students);
std::set<std::string> parse_index(std::string_view text);

using sdk::fnv1a_hex;

}  // namespace schakel::plugins::attendance_rules
