#pragma once
/**
 * The table a privacy officer (FG) reviews before go-live (`schakel privacy report CONFIG`): per
 * subscription what data goes to which recipient, for what purpose, on which legal basis, at which
 * identity level and how long the hub keeps it; then how each connector handles BSNs. Built from the
 * validated configuration only (no store, no keys read), and deterministic: the same configuration
 * always gives the same bytes, so a reviewed report can be diffed against the next one.
 */
#include <string>

#include "config/config.hpp"

namespace schakel::privacy {

/**
 * Markdown: a heading, a preamble naming the configuration file, the subscription table (subscription,
 * recipient, data, data category, purpose, legal basis, art. 9 ground, consent, identity level,
 * retention), then a "Connectors and BSN handling" table. `|` in values is escaped.
 */
std::string privacy_report_markdown(const config::hub_config& config);

/**
 * The subscription table as CSV (RFC 4180: header row, CRLF line ends, fields with `,` `"` CR or LF
 * quoted, quotes doubled). Same cells as the Markdown table.
 */
std::string privacy_report_csv(const config::hub_config& config);

}  // namespace schakel::privacy
