#include "config/allowlists.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "schakel/sdk/alert_lifecycle.hpp"
#include "trends/settings.hpp"

namespace schakel::config {
namespace {

constexpr std::string_view content_prefix = "content.";
constexpr std::string_view evidence_prefix = "content.evidence.";

bool reaches(const subscription_filter& filter, const std::string& type) {
  return filter.types.empty() || trends::type_matches(filter.types, type);
}

/**
 * The shapes of one producer's types that reach the subscription. A retraction or an update is routed as
 * the alert it follows (the router's rule, sdk/alert_lifecycle.hpp), so a producer's lifecycle types come
 * along whenever one of its other types reaches.
 */
std::vector<const sdk::signal_shape*> reaching_shapes(const subscription& sub, const sdk::emitted_signals& emits) {
  std::vector<const sdk::signal_shape*> out;
  bool any = false;
  for (const auto& [type, shape] : emits) {
    if (!sdk::is_lifecycle_type(type) && reaches(sub.filter, type)) {
      out.push_back(&shape);
      any = true;
    }
  }
  for (const auto& [type, shape] : emits)
    if (sdk::is_lifecycle_type(type) && (any || reaches(sub.filter, type))) out.push_back(&shape);
  return out;
}

bool instance_reaches(const subscription& sub, const producer& p) {
  return sub.filter.instances.empty() ||
         std::find(sub.filter.instances.begin(), sub.filter.instances.end(), p.instance) != sub.filter.instances.end();
}

/** Whether `shape` carries the entry (a path starting with "content"). */
bool carries(const sdk::signal_shape& shape, std::string_view entry) {
  if (entry == "content") return true;
  if (entry == "content.evidence") return !shape.evidence.empty();
  if (entry.starts_with(evidence_prefix)) return shape.evidence.contains(entry.substr(evidence_prefix.size()));
  const std::string_view key = entry.substr(content_prefix.size());
  return shape.content.contains(key) || (key == "evidence" && !shape.evidence.empty());
}

/** The names at the entry's level that the reaching producers do emit, as full paths. */
std::set<std::string> siblings(const std::vector<const sdk::signal_shape*>& shapes, std::string_view entry) {
  std::set<std::string> out;
  const bool evidence = entry.starts_with(evidence_prefix);
  for (const auto* s : shapes) {
    for (const auto& k : evidence ? s->evidence : s->content)
      out.insert(std::string(evidence ? evidence_prefix : content_prefix) + k);
    if (!evidence && !s->evidence.empty()) out.insert("content.evidence");
  }
  return out;
}

/** A near name: a small edit distance, or one name ending the other ("consecutive_days" / "days"). */
std::string near_name(const std::set<std::string>& candidates, const std::string& entry) {
  const auto last = [](const std::string& p) { return p.substr(p.rfind('.') + 1); };
  const std::string wanted = last(entry);
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, wanted.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::string name = last(c);
    const std::size_t d = edit_distance(wanted, name);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best.empty()) return best;
  for (const auto& c : candidates) {
    const std::string name = last(c);
    const auto& longer = name.size() > wanted.size() ? name : wanted;
    const auto& shorter = name.size() > wanted.size() ? wanted : name;
    if (shorter.size() >= 4 && longer.ends_with("_" + shorter)) return c;
  }
  return "";
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string types_text(const subscription& sub) {
  if (sub.filter.types.empty()) return "any type";
  std::string out;
  for (const auto& t : sub.filter.types) out += (out.empty() ? "" : ", ") + t;
  return out;
}

}  // namespace

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

allowlist_report check_allowlists(const hub_config& config, const std::vector<producer>& producers) {
  allowlist_report report;
  for (std::size_t i = 0; i < config.subscriptions.size(); ++i) {
    const auto& sub = config.subscriptions[i];
    std::vector<const sdk::signal_shape*> shapes;
    std::vector<std::string> silent;  // producers that may reach it but declare nothing
    for (const auto& p : producers) {
      if (!instance_reaches(sub, p)) continue;
      if (!p.emits) {
        silent.push_back(p.label);
        continue;
      }
      const auto reached = reaching_shapes(sub, *p.emits);
      shapes.insert(shapes.end(), reached.begin(), reached.end());
    }
    const std::string where = "subscriptions[" + std::to_string(i) + "] (" + sub.name + "): ";
    for (std::size_t f = 0; f < sub.fields.size(); ++f) {
      const std::string& entry = sub.fields[f];
      if (entry != "content" && !entry.starts_with(content_prefix)) continue;  // the envelope
      if (std::any_of(shapes.begin(), shapes.end(), [&](const auto* s) { return carries(*s, entry); })) continue;
      const std::string at = where + "fields[" + std::to_string(f) + "] " + entry + ": ";
      if (!silent.empty()) {
        std::string who;
        for (const auto& s : silent) who += (who.empty() ? "" : ", ") + s;
        report.warnings.push_back(at + "cannot be checked: " + who +
                                  " declare(s) nothing it emits (a plugin older than ABI 1.2)");
        continue;
      }
      std::string message =
          at + "no configured producer emits it for " + types_text(sub) + ", so the partner would never receive it";
      const auto known = siblings(shapes, entry);
      if (const std::string near = near_name(known, entry); !near.empty()) message += "; did you mean " + near + "?";
      if (shapes.empty())
        message += " (no configured connector or processor emits any of these types)";
      else if (!known.empty())
        message += " (emitted: " + joined(known) + ")";
      report.errors.push_back(std::move(message));
    }
  }
  return report;
}

}  // namespace schakel::config
