#include "privacy/report.hpp"

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace schakel::privacy {
namespace {

bool is_pattern(std::string_view t) {
  return !t.empty() && t.back() == '*';
}
std::string_view prefix_of(std::string_view t) {
  return is_pattern(t) ? t.substr(0, t.size() - 1) : t;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/** Whether every type matched by `t` is matched by `rule`. */
bool covers(std::string_view rule, std::string_view t) {
  if (!is_pattern(rule)) return !is_pattern(t) && rule == t;
  return starts_with(prefix_of(t), prefix_of(rule));
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out.append(sep);
    out.append(item);
  }
  return out;
}

std::string days_text(std::int64_t days) {
  return days > 0 ? std::to_string(days) + " days" : std::string("kept (no purge)");
}

std::string basis_text(const std::string& basis) {
  if (basis == "consent") return "consent (art. 6(1)(a))";
  if (basis == "legal_obligation") return "legal obligation (art. 6(1)(c))";
  if (basis == "vital_interest") return "vital interest (art. 6(1)(d))";
  if (basis == "public_task") return "public task (art. 6(1)(e))";
  return basis.empty() ? std::string("none") : basis;
}

std::string ground_text(const std::string& ground) {
  if (ground == "explicit_consent") return "explicit consent (art. 9(2)(a))";
  if (ground == "vital_interest") return "vital interest (art. 9(2)(c))";
  if (ground == "substantial_public_interest") return "substantial public interest (art. 9(2)(g))";
  if (ground == "health_care") return "health care (art. 9(2)(h))";
  return ground;
}

std::string data_text(const config::subscription& s) {
  std::string out = s.filter.types.empty() ? std::string("all types") : join(s.filter.types, ", ");
  out += "; fields: ";
  out += s.fields.empty() ? std::string("none") : join(s.fields, ", ");
  return out;
}

std::string consent_text(const config::privacy_policy& p) {
  // The same rule the gate applies (delivery_question): consent as basis, or health data on explicit consent.
  const bool needed = p.legal_basis == "consent" || p.health_ground == "explicit_consent";
  std::string out;
  if (!needed) {
    out = "no";
  } else if (p.consent_framework == "wgbo") {
    out = "yes, WGBO (parents under 12, parents and child 12-15, the young person 16+)";
  } else {
    out = "yes, AVG (parent under 16, student 16+)";
  }
  if (p.legal_basis == "consent" || p.legal_basis == "public_task") out += "; objection honoured (art. 21)";
  return out;
}

std::string identity_text(const config::privacy_policy& p) {
  std::string out = p.identity.empty() ? std::string("(not set)") : p.identity;
  // Only the school's own staff systems receive staff's free text (content.note).
  if (p.audience == "school") out += "; school's own staff (receives staff notes)";
  if (p.pseudonym_keys.empty()) return out;
  std::vector<std::string> keys;
  for (const auto& k : p.pseudonym_keys) {
    std::string period;
    if (k.active_from.empty() && k.retire_after.empty()) {
      period = "always";
    } else {
      if (!k.active_from.empty()) period = "from " + k.active_from;
      if (!k.retire_after.empty()) period += (period.empty() ? "" : " ") + std::string("until ") + k.retire_after;
    }
    keys.push_back(k.id + " (" + period + ")");
  }
  return out + "; keys: " + join(keys, ", ");
}

/**
 * The hub's retention of what this subscription may receive: every rule that can apply (first match
 * wins, so a rule hidden behind an earlier covering rule is left out), the default when some type
 * falls through every rule, and the audit trail.
 */
std::string retention_text(const config::subscription& s, const config::retention_settings& r) {
  const std::vector<std::string> types = s.filter.types.empty() ? std::vector<std::string>{"*"} : s.filter.types;
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < r.signal_days.size(); ++i) {
    const auto& [rule, days] = r.signal_days[i];
    bool applies = false;
    for (const auto& t : types) {
      if (!config::types_may_overlap(rule, t)) continue;
      bool shadowed = false;
      for (std::size_t j = 0; j < i && !shadowed; ++j) shadowed = covers(r.signal_days[j].first, t);
      applies = applies || !shadowed;
    }
    if (applies) parts.push_back(rule + " " + days_text(days));
  }
  bool falls_through = false;
  for (const auto& t : types) {
    bool covered = false;
    for (const auto& [rule, days] : r.signal_days) covered = covered || covers(rule, t);
    falls_through = falls_through || !covered;
  }
  if (falls_through) parts.push_back((parts.empty() ? "all " : "other ") + days_text(r.default_signal_days));
  return "signals: " + join(parts, ", ") + "; audit: " + days_text(r.audit_days);
}

constexpr std::array<std::string_view, 10> columns = {
    "Subscription",         "Recipient",     "Data",    "Data category",  "Purpose",
    "Legal basis (art. 6)", "Art. 9 ground", "Consent", "Identity level", "Retention"};

using row = std::array<std::string, columns.size()>;

std::vector<row> subscription_rows(const config::hub_config& config) {
  std::vector<row> rows;
  for (const auto& s : config.subscriptions) {
    const bool health = config::may_carry_health_data(s.filter);
    const auto& p = s.privacy;
    std::string basis = basis_text(p.legal_basis);
    if (!p.basis_reference.empty()) basis += "; " + p.basis_reference;
    std::string ground = ground_text(p.health_ground);
    if (ground.empty()) ground = health ? "none" : "n/a";
    rows.push_back(row{s.name, s.partner, data_text(s), health ? "health (art. 9)" : "personal data",
                       p.purpose.empty() ? std::string("(not stated)") : p.purpose, basis, ground, consent_text(p),
                       identity_text(p), retention_text(s, config.privacy.retention)});
  }
  return rows;
}

/** A Markdown table cell: `|` would end the cell and a line break the row. */
std::string md_cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

template <typename Cells>
void md_row(std::string& out, const Cells& cells) {
  out += "|";
  for (const auto& c : cells) {
    out += " ";
    out += md_cell(c);
    out += " |";
  }
  out += "\n";
}

std::string csv_field(std::string_view text_in) {
  // A cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with an apostrophe: the
  // report is opened in spreadsheets, and config text should never execute there.
  std::string guarded;
  if (!text_in.empty() && std::string_view("=+-@").find(text_in.front()) != std::string_view::npos)
    guarded = "'" + std::string(text_in);
  const std::string_view text = guarded.empty() ? text_in : std::string_view(guarded);
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += "\"";
  return out;
}

}  // namespace

std::string privacy_report_markdown(const config::hub_config& config) {
  std::string out = "# Schakel privacy report\n\n";
  out +=
      "Configuration: `" + (config.source_file.empty() ? std::string("(inline text)") : config.source_file) + "`\n\n";
  out +=
      "Every event passes the privacy gate: a subscription receives only the fields listed (deny by default), "
      "at its identity level, and only while its legal basis, consent and objections allow. "
      "Audit trail kept " +
      days_text(config.privacy.retention.audit_days) + ".\n\n";
  out += "## Subscriptions\n\n";
  if (config.subscriptions.empty()) {
    out += "No subscriptions: nothing leaves the hub.\n\n";
  } else {
    md_row(out, columns);
    out += "|";
    for (std::size_t i = 0; i < columns.size(); ++i) out += " --- |";
    out += "\n";
    for (const auto& r : subscription_rows(config)) md_row(out, r);
    out += "\n";
  }
  out += "## Connectors and BSN handling\n\n";
  out +=
      "A value that is a BSN is refused at ingest unless its field is a key below; keys are replaced by a keyed "
      "hash and never stored or forwarded.\n\n";
  if (config.connectors.empty()) {
    out += "No connectors.\n";
    return out;
  }
  md_row(out, std::array<std::string_view, 4>{"Instance", "Plugin", "BSN key fields", "Exempt fields"});
  out += "| --- | --- | --- | --- |\n";
  for (const auto& c : config.connectors) {
    std::vector<std::string> keys;
    for (const auto& [field, use] : c.bsn.keys) {
      std::string key = field;
      key.append(" (").append(use).append(")");
      keys.push_back(std::move(key));
    }
    md_row(out, std::array<std::string, 4>{c.name, c.plugin, keys.empty() ? "none" : join(keys, ", "),
                                           c.bsn.exempt.empty() ? "none" : join(c.bsn.exempt, ", ")});
  }
  return out;
}

std::string privacy_report_csv(const config::hub_config& config) {
  std::string out;
  const auto line = [&out](const auto& cells) {
    bool first = true;
    for (const auto& c : cells) {
      if (!first) out += ",";
      first = false;
      out += csv_field(c);
    }
    out += "\r\n";
  };
  line(columns);
  for (const auto& r : subscription_rows(config)) line(r);
  return out;
}

}  // namespace schakel::privacy
