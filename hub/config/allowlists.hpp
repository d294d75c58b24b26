#pragma once
/**
 * The promise a subscription's field list makes, held against what the configured producers declare
 * they emit: a `content` or `content.evidence` entry that no producer of the subscription's types writes
 * would leave the partner silently without it. The envelope (type, subject, governance, …) is the same
 * for every signal and is checked against the signal schema at load, not here.
 */
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "schakel/plugin.hpp"

namespace schakel::config {

/** One configured producer of signals: a connector or processor instance, or a part of the hub itself. */
struct producer {
  std::string label;     ///< how messages name it, e.g. "processors[0] (attendance-rules)"
  std::string instance;  ///< the source.instance its signals carry (subscription filters match on it)
  /// What it declared it can emit; nullopt when it declares nothing (a plugin older than ABI 1.2).
  std::optional<sdk::emitted_signals> emits;
};

/** What the check found: errors refuse the configuration, warnings are printed and let it pass. */
struct allowlist_report {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

/**
 * Every `content…` entry of every subscription's fields must be emitted by at least one producer whose
 * declared types reach the subscription (its type filter and instance filter; a retraction reaches
 * whoever takes the type it retracts). An entry nobody is known to emit is an error naming the
 * subscription, the entry and a near name ("did you mean") when there is one; when a producer that
 * declares nothing might reach the subscription, it is a warning instead (its output cannot be checked).
 */
allowlist_report check_allowlists(const hub_config& config, const std::vector<producer>& producers);

/** Levenshtein distance between `a` and `b` (for "did you mean"). */
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace schakel::config
