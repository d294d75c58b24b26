#pragma once
/**
 * BSN (burgerservicenummer) detection. A BSN is 8 or 9 digits which, zero-padded to 9, pass the
 * 11-test (9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11, not all zeros). The onderwijsnummer
 * (9 digits, remainder 5) does not pass. About 1 in 11 random numbers do, so other identifier
 * fields can be exempted.
 */
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::privacy {

/** True when `text` is exactly 8 or 9 ASCII digits passing the 11-test. */
bool is_bsn(std::string_view text);

/**
 * `text` with every BSN in it (a separate run of 8-9 digits passing the 11-test, as below) replaced
 * by as many '*': for keeping a refused export without the BSNs, its lines and columns unchanged.
 */
std::string mask_bsns(std::string text);

/**
 * The dotted paths ("content.evidence.note", "subject.student_key") of a signal's string or integer
 * values that are a BSN or contain one as a separate run of 8-9 digits (not part of a longer digit
 * run). Not scanned: paths in `exempt`, the fields the hub itself sets (id, schema_version,
 * received_at, source.connector, source.instance), and values that are exactly a signal id (a ULID,
 * as in derived_from or an evidence reference to an alert). Arrays are named by index ("derived_from.0").
 */
std::vector<std::string> find_bsn_fields(const nlohmann::json& signal, const std::vector<std::string>& exempt);

}  // namespace schakel::privacy
