#include "trends/report.hpp"

#include <map>
#include <stdexcept>
#include <string_view>

#include "trends/enrolment.hpp"

namespace schakel::trends {
namespace {

using json = nlohmann::json;

[[noreturn]] void malformed(const std::string& where, std::string_view why) {
  throw std::invalid_argument(where + ": " + std::string(why));
}

/** A required non-empty string member. */
std::string required_string(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) malformed(where + "." + key, "required");
  if (!it->is_string() || it->get_ref<const std::string&>().empty())
    malformed(where + "." + key, "must be a non-empty string");
  return it->get<std::string>();
}

/** An optional string member ("" when absent or null); integers are accepted for leerjaar-like codes. */
std::string optional_code(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  malformed(where + "." + key, "must be a string");
}

/** An optional number member (null when absent). */
json optional_number(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_number()) malformed(where + "." + key, "must be a number");
  return *it;
}

/** RFC 4180: quote a field holding the delimiter, a quote or a line break, doubling quotes. */
void put_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string number_text(const json& n) {
  return n.is_null() ? std::string() : n.dump();
}

}  // namespace

std::vector<trend_row> trend_rows(const json& doc) {
  if (!doc.is_object()) malformed("document", "must be a JSON object with a releases array");
  const auto releases = doc.find("releases");
  if (releases == doc.end() || !releases->is_array()) malformed("releases", "required: an array");

  std::vector<trend_row> rows;
  for (std::size_t r = 0; r < releases->size(); ++r) {
    const auto& release = (*releases)[r];
    const std::string rw = "releases[" + std::to_string(r) + "]";
    if (!release.is_object()) malformed(rw, "must be an object");
    trend_row base;
    base.release_index = r;
    base.school = required_string(release, "school", rw);
    const auto window = release.find("window");
    if (window == release.end() || !window->is_object()) malformed(rw + ".window", "required: an object");
    base.window_kind = required_string(*window, "kind", rw + ".window");
    if (base.window_kind != "week" && base.window_kind != "month" && base.window_kind != "year_to_date")
      malformed(rw + ".window.kind", "must be \"week\", \"month\" or \"year_to_date\"");
    base.window_key = required_string(*window, "key", rw + ".window");
    base.first = required_string(*window, "first", rw + ".window");
    base.last = required_string(*window, "last", rw + ".window");
    if (!is_iso_date(base.first)) malformed(rw + ".window.first", "not a date (YYYY-MM-DD)");
    if (!is_iso_date(base.last)) malformed(rw + ".window.last", "not a date (YYYY-MM-DD)");
    if (const auto at = release.find("released_at"); at != release.end() && at->is_string())
      base.released_at = at->get<std::string>();

    std::map<std::string, std::string> unit_of;
    if (const auto measures = release.find("measures"); measures != release.end() && !measures->is_null()) {
      if (!measures->is_array()) malformed(rw + ".measures", "must be an array");
      for (std::size_t m = 0; m < measures->size(); ++m) {
        const auto& measure = (*measures)[m];
        const std::string mw = rw + ".measures[" + std::to_string(m) + "]";
        if (!measure.is_object()) malformed(mw, "must be an object");
        unit_of[required_string(measure, "name", mw)] = optional_code(measure, "unit", mw);
      }
    }

    const auto cells = release.find("cells");
    if (cells == release.end() || !cells->is_array()) malformed(rw + ".cells", "required: an array");
    for (std::size_t c = 0; c < cells->size(); ++c) {
      const auto& cell = (*cells)[c];
      const std::string cw = rw + ".cells[" + std::to_string(c) + "]";
      if (!cell.is_object()) malformed(cw, "must be an object");
      trend_row row = base;
      row.cell_index = c;
      row.measure = required_string(cell, "measure", cw);
      if (const auto u = unit_of.find(row.measure); u != unit_of.end()) row.unit = u->second;
      row.category = optional_code(cell, "category", cw);
      row.level = required_string(cell, "level", cw);
      if (row.level != "school" && row.level != "leerjaar" && row.level != "class")
        malformed(cw + ".level", "must be \"school\", \"leerjaar\" or \"class\"");
      row.leerjaar = optional_code(cell, "leerjaar", cw);
      row.klass = optional_code(cell, "class", cw);
      if (row.level == "leerjaar" && row.leerjaar.empty()) malformed(cw + ".leerjaar", "required at level leerjaar");
      if (row.level == "class" && row.klass.empty()) malformed(cw + ".class", "required at level class");
      const std::string status = required_string(cell, "status", cw);
      if (status == "released") {
        row.released = true;
        row.value = optional_number(cell, "value", cw);
        if (row.value.is_null()) malformed(cw + ".value", "required for a released cell");
        row.denominator = optional_number(cell, "denominator", cw);
        row.rate = optional_number(cell, "rate", cw);
        if (const auto noisy = cell.find("noisy"); noisy != cell.end() && !noisy->is_null()) {
          if (!noisy->is_boolean()) malformed(cw + ".noisy", "must be true or false");
          row.noisy = noisy->get<bool>();
        }
      } else if (status == "suppressed") {
        for (const char* held_back : {"value", "denominator", "rate"}) {
          if (const auto it = cell.find(held_back); it != cell.end() && !it->is_null())
            malformed(cw + "." + held_back, "present on a suppressed cell (it must carry only its reason)");
        }
        row.reason = required_string(cell, "reason", cw);
        // The hub's own view carries the detailed reason; a partner's has it stripped.
        if (const auto hub = optional_code(cell, "hub_reason", cw); !hub.empty()) row.reason = hub;
        row.detail = optional_code(cell, "detail", cw);
        row.value = row.denominator = row.rate = nullptr;
      } else {
        malformed(cw + ".status", "must be \"released\" or \"suppressed\"");
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string trends_csv(const json& doc) {
  const auto rows = trend_rows(doc);
  std::string out = trends_csv_header;
  out += "\r\n";
  for (const auto& row : rows) {
    bool first = true;
    auto field = [&](std::string_view text) {
      if (!first) out += ',';
      first = false;
      put_field(out, text);
    };
    field(row.school);
    field(row.window_kind);
    field(row.window_key);
    field(row.first);
    field(row.last);
    field(row.measure);
    field(row.category);
    field(row.level);
    field(row.leerjaar);
    field(row.klass);
    field(row.released ? "released" : "suppressed");
    field(number_text(row.value));
    field(number_text(row.denominator));
    field(number_text(row.rate));
    field(row.released ? (row.noisy ? "true" : "false") : "");
    field(row.reason);
    out += "\r\n";
  }
  return out;
}

}  // namespace schakel::trends
