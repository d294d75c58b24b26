#pragma once
/**
 * Finding the hub's own identifiers in what goes out, so the privacy gate can swap each for a
 * partner's stand-in. A hub id is a ULID (common/signal.hpp): 26 upper-case Crockford base32
 * characters, the first at most '7'. The gate does not trust field names to say where ids are
 * (processors put them in evidence under names of their own choosing): every ULID-shaped token in
 * every string value and object key counts, wherever it sits. A source's own ULID-shaped value is
 * swapped as well; it too tells the time it was made, to the millisecond.
 */
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace schakel::privacy {

/** Maps one hub id to what a partner gets instead; must not itself return a ULID-shaped token. */
using stand_in_fn = std::function<std::string(std::string_view hub_id)>;

/** True when `token` is exactly ULID-shaped (26 Crockford characters, upper case, first <= '7'). */
bool is_hub_id(std::string_view token);

/**
 * `text` with every ULID-shaped token replaced by its stand-in. A token is a maximal run of ASCII
 * letters and digits, so an id inside "msg_<id>_x" or "<id>:2026-11-23" is found; a 26-character
 * window inside a longer run is not (that run is no id). Costs one pass over `text`.
 */
std::string replace_hub_ids(std::string_view text, const stand_in_fn& stand_in);

/** Replaces hub ids in every string value and every object key of `doc`, at any depth. */
void replace_hub_ids(nlohmann::json& doc, const stand_in_fn& stand_in);

}  // namespace schakel::privacy
