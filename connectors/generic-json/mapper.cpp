#include "mapper.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace schakel::connectors::generic_json {
namespace {

using nlohmann::json;

std::string kind_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    case json::value_t::discarded:
      return "nothing";
    default:
      return "number";
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

/** A failed conversion: the reason, never the value. */
struct conversion_error {
  std::string reason;
};

// "12", "-3", "2.5", "2,5" (decimal comma, common in Dutch exports). Whole text must match.
std::optional<json> number_from_text(std::string_view s) {
  s = trim(s);
  std::string_view body = s;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  const std::size_t sep = body.find_first_of(".,");
  const std::string_view whole = body.substr(0, sep);
  const std::string_view frac = sep == std::string_view::npos ? std::string_view{} : body.substr(sep + 1);
  if (!all_digits(whole) || (sep != std::string_view::npos && !all_digits(frac))) return std::nullopt;
  std::string normal(s[0] == '+' ? s.substr(1) : s);
  for (char& c : normal) {
    if (c == ',') c = '.';
  }
  if (sep == std::string_view::npos) {
    std::int64_t i = 0;
    const auto [p, ec] = std::from_chars(normal.data(), normal.data() + normal.size(), i);
    if (ec == std::errc() && p == normal.data() + normal.size()) return json(i);
  }
  double d = 0;
  const auto [p, ec] = std::from_chars(normal.data(), normal.data() + normal.size(), d);
  if (ec != std::errc() || p != normal.data() + normal.size() || !std::isfinite(d)) return std::nullopt;
  return json(d);
}

std::optional<json> convert(const json& v, conversion as, conversion_error& err) {
  switch (as) {
    case conversion::none:
      return v;
    case conversion::string:
      if (v.is_string()) return v;
      if (v.is_number() || v.is_boolean()) return json(v.dump());
      err.reason = "expected a string, got " + kind_name(v);
      return std::nullopt;
    case conversion::number:
      if (v.is_number()) return v;
      if (v.is_string()) {
        if (auto n = number_from_text(v.get_ref<const std::string&>())) return n;
      }
      err.reason = "expected a number, got " + kind_name(v);
      return std::nullopt;
    case conversion::integer: {
      if (v.is_number_integer()) return v;
      if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) <= 9007199254740992.0) {
          return json(static_cast<std::int64_t>(d));
        }
        err.reason = "expected an integer, got a fractional number";
        return std::nullopt;
      }
      if (v.is_string()) {
        const auto n = number_from_text(v.get_ref<const std::string&>());
        if (n && n->is_number_integer()) return n;
      }
      err.reason = "expected an integer, got " + kind_name(v);
      return std::nullopt;
    }
    case conversion::boolean:
      if (v.is_boolean()) return v;
      if (v.is_number_integer() && (v.get<std::int64_t>() == 0 || v.get<std::int64_t>() == 1)) {
        return json(v.get<std::int64_t>() == 1);
      }
      if (v.is_string()) {
        const std::string_view s = trim(v.get_ref<const std::string&>());
        for (const char* t : {"true", "ja", "yes", "1", "j", "y"}) {
          if (iequals(s, t)) return json(true);
        }
        for (const char* f : {"false", "nee", "no", "0", "n"}) {
          if (iequals(s, f)) return json(false);
        }
      }
      err.reason = "expected a boolean, got " + kind_name(v);
      return std::nullopt;
    case conversion::date:
      if (v.is_string()) {
        if (auto d = normalise_date(v.get_ref<const std::string&>())) return json(std::move(*d));
        err.reason = "expected a date (YYYY-MM-DD, DD-MM-YYYY or RFC 3339), got an unrecognised string";
        return std::nullopt;
      }
      err.reason = "expected a date (YYYY-MM-DD, DD-MM-YYYY or RFC 3339), got " + kind_name(v);
      return std::nullopt;
  }
  err.reason = "unsupported conversion";
  return std::nullopt;
}

/** The map's key for a converted source value; nullopt for values that cannot be keys. */
std::optional<std::string> map_key(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

int two(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

bool digits_at(std::string_view s, std::size_t at, std::size_t n) {
  return at + n <= s.size() && all_digits(s.substr(at, n));
}

bool valid_ymd(int y, int m, int d) {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + ((m == 2 && leap) ? 1 : 0);
}

}  // namespace

bool is_ndjson(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  media = trim(media);
  for (const char* t : {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                        "application/jsonlines"}) {
    if (iequals(media, t)) return true;
  }
  return false;
}

std::optional<std::string> normalise_date(std::string_view text) {
  const std::string_view s = trim(text);
  // YYYY-MM-DD
  if (s.size() == 10 && digits_at(s, 0, 4) && s[4] == '-' && digits_at(s, 5, 2) && s[7] == '-' && digits_at(s, 8, 2)) {
    const int y = two(s, 0) * 100 + two(s, 2);
    if (!valid_ymd(y, two(s, 5), two(s, 8))) return std::nullopt;
    return std::string(s) + "T00:00:00Z";
  }
  // DD-MM-YYYY
  if (s.size() == 10 && digits_at(s, 0, 2) && s[2] == '-' && digits_at(s, 3, 2) && s[5] == '-' && digits_at(s, 6, 4)) {
    const int y = two(s, 6) * 100 + two(s, 8);
    if (!valid_ymd(y, two(s, 3), two(s, 0))) return std::nullopt;
    return std::string(s.substr(6, 4)) + "-" + std::string(s.substr(3, 2)) + "-" + std::string(s.substr(0, 2)) +
           "T00:00:00Z";
  }
  // RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20 || !digits_at(s, 0, 4) || s[4] != '-' || !digits_at(s, 5, 2) || s[7] != '-' ||
      !digits_at(s, 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits_at(s, 11, 2) || s[13] != ':' ||
      !digits_at(s, 14, 2) || s[16] != ':' || !digits_at(s, 17, 2)) {
    return std::nullopt;
  }
  const int y = two(s, 0) * 100 + two(s, 2);
  if (!valid_ymd(y, two(s, 5), two(s, 8)) || two(s, 11) > 23 || two(s, 14) > 59 || two(s, 17) > 60) {
    return std::nullopt;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start || i - start > 9) return std::nullopt;
  }
  std::string out(s);
  out[10] = 'T';
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    out[i] = 'Z';
    return out;
  }
  if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits_at(s, i + 1, 2) && s[i + 3] == ':' &&
      digits_at(s, i + 4, 2) && two(s, i + 1) <= 23 && two(s, i + 4) <= 59) {
    return out;
  }
  return std::nullopt;
}

connector::connector(std::string_view settings_json) : settings_(parse_settings(settings_json)) {}
connector::connector(settings s) : settings_(std::move(s)) {}

void connector::map_record(const json& record, std::int64_t index, sdk::ingest_context& ctx) const {
  if (!record.is_object()) {
    ctx.reject(index, "", "record is not a JSON object (got " + kind_name(record) + ")");
    return;
  }
  json signal = json::object();
  if (settings_.type) signal["type"] = *settings_.type;

  for (const rule& r : settings_.rules) {
    if (!r.source) {
      signal[r.where] = r.constant;
      continue;
    }
    const json* found = r.source->find(record);
    if (found == nullptr || found->is_null()) {
      if (r.default_value) {
        signal[r.where] = *r.default_value;
      } else if (r.required) {
        ctx.reject(index, r.source->text, "required value missing");
        return;
      }
      continue;
    }
    conversion_error err;
    auto value = convert(*found, r.as, err);
    if (!value) {
      ctx.reject(index, r.source->text, err.reason);
      return;
    }
    if (r.map) {
      const auto key = map_key(*value);
      const auto hit = key ? r.map->find(*key) : r.map->end();
      if (hit != r.map->end()) {
        value = hit->second;
      } else if (r.map_default) {
        value = *r.map_default;
      } else {
        // The value itself is not named: it may be a name or a key.
        ctx.reject(index, r.source->text,
                   key ? std::string("value not in map") : "value not in map (got " + kind_name(*value) + ")");
        return;
      }
    }
    signal[r.where] = std::move(*value);
  }
  ctx.emit(signal.dump(-1, ' ', false, json::error_handler_t::replace), index);
}

void connector::ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const {
  if (is_ndjson(content_type)) {
    std::int64_t line_no = 0;
    std::size_t start = 0;
    while (start <= body.size()) {
      const std::size_t nl = body.find('\n', start);
      const std::string_view line = trim(body.substr(start, nl == std::string_view::npos ? body.npos : nl - start));
      const std::int64_t index = line_no++;
      start = nl == std::string_view::npos ? body.size() + 1 : nl + 1;
      if (line.empty()) continue;
      if (const std::size_t at = sdk::json_too_deep_at(line, max_depth)) {
        ctx.reject(index, "",
                   "JSON nested deeper than " + std::to_string(max_depth) + " levels at byte " + std::to_string(at) +
                       " of the line");
        continue;
      }
      json record;
      try {
        record = json::parse(line);
      } catch (const json::parse_error& e) {
        // e.what() quotes the text around the error: only the offset goes out.
        ctx.reject(index, "", "invalid JSON at byte " + std::to_string(e.byte) + " of the line");
        continue;
      } catch (const json::exception&) {
        ctx.reject(index, "", "invalid JSON: a number is out of range");
        continue;
      }
      map_record(record, index, ctx);
    }
    return;
  }

  if (const std::size_t at = sdk::json_too_deep_at(body, max_depth)) {
    ctx.fail("JSON nested deeper than " + std::to_string(max_depth) + " levels at byte " + std::to_string(at));
    return;
  }
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    ctx.fail("invalid JSON at byte " + std::to_string(e.byte));
    return;
  } catch (const json::exception&) {
    // out_of_range 406: a number literal too large for a double (its what() quotes the literal).
    ctx.fail("invalid JSON: a number is out of range");
    return;
  }
  const json* records = &doc;
  if (settings_.records) {
    records = settings_.records->find(doc);
    if (records == nullptr) {
      ctx.fail("records pointer " + settings_.records->text + " not found in the body");
      return;
    }
    if (!records->is_array()) {
      ctx.fail("records pointer " + settings_.records->text + " does not point at an array (got " +
               kind_name(*records) + ")");
      return;
    }
  }
  if (records->is_array()) {
    std::int64_t index = 0;
    for (const auto& record : *records) map_record(record, index++, ctx);
  } else if (records->is_object()) {
    map_record(*records, 0, ctx);
  } else {
    ctx.fail("body must be a JSON array of records or one record object (got " + kind_name(*records) + ")");
  }
}

sdk::emitted_signals connector::emits() const {
  std::vector<std::string> types;
  if (settings_.type) types.push_back(*settings_.type);
  sdk::signal_shape shape;
  constexpr std::string_view content_prefix = "content.";
  constexpr std::string_view evidence_prefix = "content.evidence.";
  for (const auto& r : settings_.rules) {
    const std::string_view target = r.target;
    if (target == "type") {
      // parse_settings made sure every outcome of a type rule is a type: const, map values, defaults.
      if (!r.source) types.push_back(r.constant.get<std::string>());
      if (r.map)
        for (const auto& [from, to] : *r.map) types.push_back(to.get<std::string>());
      if (r.map_default) types.push_back(r.map_default->get<std::string>());
      if (r.default_value) types.push_back(r.default_value->get<std::string>());
    } else if (target.starts_with(evidence_prefix)) {
      shape.evidence.insert(std::string(target.substr(evidence_prefix.size())));
    } else if (target.starts_with(content_prefix)) {
      shape.content.insert(std::string(target.substr(content_prefix.size())));
    }
  }
  sdk::emitted_signals out;
  for (const auto& t : types) out[t] = shape;
  return out;
}

}  // namespace schakel::connectors::generic_json
