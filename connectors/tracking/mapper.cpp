#include "mapper.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace schakel::connectors::tracking {
namespace {

using nlohmann::json;
namespace txt = schakel::connectors::text;

// Fields an export may leave out even when the profile maps them.
bool optional_field(field f) noexcept {
  return f == field::class_name || f == field::leerjaar || f == field::round || f == field::record_id ||
         f == field::raw_score || f == field::norm_score || f == field::band;
}

/** One record's cells, extracted from CSV or JSON; empty cells are absent. */
struct row {
  std::array<std::optional<std::string>, field_count> fields;
  std::vector<std::optional<std::string>> scale_cells;  // wide exports: one per settings.scales entry
};

/** What rejections name: CSV column names or JSON pointers. */
struct labels {
  std::array<std::string, field_count> fields;
  std::vector<std::string> scales;
};

std::optional<double> parse_number(std::string_view text) {
  std::string s(txt::trim(text));
  // Dutch exports write decimal commas; a lone comma is the decimal separator.
  if (std::count(s.begin(), s.end(), ',') == 1 && s.find('.') == std::string::npos) s[s.find(',')] = '.';
  if (s.empty() || s.size() > 32) return std::nullopt;
  double d = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

json number_json(double d) {
  if (std::abs(d) < 1e15 && d == std::floor(d)) return static_cast<std::int64_t>(d);
  return d;
}

bool is_instrument_id(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

class row_mapper {
 public:
  row_mapper(const settings& s, labels l) : s_(s), labels_(std::move(l)) {}

  void map(const row& r, std::int64_t index, sdk::ingest_context& ctx) const {
    auto reject = [&](field f, std::string_view reason) {
      ctx.reject(index, labels_.fields[static_cast<std::size_t>(f)], reason);
    };
    auto get = [&](field f) -> const std::optional<std::string>& { return r.fields[static_cast<std::size_t>(f)]; };

    json subject = {{"school", {{"brin", s_.default_school.brin}}}};
    if (!s_.default_school.vestiging.empty()) subject["school"]["vestiging"] = s_.default_school.vestiging;

    const auto& student = get(field::student_key);
    if (!student) return reject(field::student_key, "missing");
    if (student->size() > 64) return reject(field::student_key, "longer than 64 characters");
    subject["student_key"] = *student;

    const auto& date_cell = get(field::date);
    if (!date_cell) return reject(field::date, "missing");
    const auto date = txt::parse_date(*date_cell);
    if (!date) return reject(field::date, "not a date (expected dd-mm-jjjj or YYYY-MM-DD)");

    std::string instrument;
    if (s_.col(field::instrument)) {
      const auto& cell = get(field::instrument);
      if (!cell) return reject(field::instrument, "missing");
      instrument = txt::ascii_lower(*cell);
      if (!is_instrument_id(instrument))
        return reject(field::instrument, "not an instrument id ([a-z0-9_.-], at most 64)");
    } else {
      instrument = *s_.instrument;
    }

    std::string respondent;
    if (s_.col(field::respondent)) {
      const auto& cell = get(field::respondent);
      if (!cell) return reject(field::respondent, "missing");
      const std::string key = txt::ascii_lower(*cell);
      const auto it =
          std::find_if(s_.respondents.begin(), s_.respondents.end(), [&](const auto& kv) { return kv.first == key; });
      if (it == s_.respondents.end()) return reject(field::respondent, "unknown respondent value (not in respondents)");
      respondent = it->second;
    } else {
      respondent = *s_.respondent;
    }

    if (const auto& cls = get(field::class_name)) {
      if (cls->size() > 32) return reject(field::class_name, "longer than 32 characters");
      subject["class"] = *cls;
    }
    if (const auto& lj = get(field::leerjaar)) {
      const auto n = txt::parse_count(*lj, 6);
      if (!n || *n < 1) return reject(field::leerjaar, "not a leerjaar (1 to 6)");
      subject["leerjaar"] = *n;
    }
    const auto& round = get(field::round);
    if (round && round->size() > 64) return reject(field::round, "longer than 64 characters");
    const auto& record_id = get(field::record_id);
    if (record_id && record_id->size() > 128) return reject(field::record_id, "longer than 128 characters");

    const measurement_base base{subject, date->iso(), instrument, respondent, round, record_id};
    if (!s_.wide) {
      const auto& scale_cell = get(field::scale);
      if (!scale_cell) return reject(field::scale, "missing");
      const std::string key = txt::ascii_lower(*scale_cell);
      const scale* sc = nullptr;
      for (const auto& candidate : s_.scales) {
        if (std::find(candidate.values.begin(), candidate.values.end(), key) != candidate.values.end()) sc = &candidate;
      }
      if (sc == nullptr) return reject(field::scale, "unknown scale (not in scales)");
      emit_measurement(base, *sc, get(field::raw_score), get(field::norm_score), get(field::band),
                       labels_.fields[static_cast<std::size_t>(field::raw_score)],
                       labels_.fields[static_cast<std::size_t>(field::norm_score)],
                       labels_.fields[static_cast<std::size_t>(field::band)], index, ctx);
      return;
    }
    // Wide: one measurement per non-empty scale cell; a bad cell refuses only that scale.
    for (std::size_t i = 0; i < s_.scales.size(); ++i) {
      const auto& cell = r.scale_cells[i];
      if (!cell) continue;
      const std::optional<std::string> none;
      const std::string& own = labels_.scales[i];
      switch (s_.wide_holds) {
        case cell_kind::norm_score:
          emit_measurement(base, s_.scales[i], get(field::raw_score), cell, none,
                           labels_.fields[static_cast<std::size_t>(field::raw_score)], own, own, index, ctx);
          break;
        case cell_kind::raw_score:
          emit_measurement(base, s_.scales[i], cell, get(field::norm_score), get(field::band), own,
                           labels_.fields[static_cast<std::size_t>(field::norm_score)],
                           labels_.fields[static_cast<std::size_t>(field::band)], index, ctx);
          break;
        case cell_kind::band:
          emit_measurement(base, s_.scales[i], none, none, cell, own, own, own, index, ctx);
          break;
      }
    }
  }

 private:
  struct measurement_base {
    const json& subject;
    std::string date;
    const std::string& instrument;
    const std::string& respondent;
    const std::optional<std::string>& round;
    const std::optional<std::string>& record_id;
  };

  void emit_measurement(const measurement_base& b, const scale& sc, const std::optional<std::string>& raw_cell,
                        const std::optional<std::string>& norm_cell, const std::optional<std::string>& band_cell,
                        const std::string& raw_label, const std::string& norm_label, const std::string& band_label,
                        std::int64_t index, sdk::ingest_context& ctx) const {
    std::optional<double> raw;
    if (raw_cell) {
      raw = parse_number(*raw_cell);
      if (!raw) return ctx.reject(index, raw_label, "not a number");
    }
    std::optional<double> norm;
    if (norm_cell) {
      norm = parse_number(*norm_cell);
      if (!norm) return ctx.reject(index, norm_label, "not a number");
    }
    std::optional<std::size_t> rank;
    if (band_cell) {
      const std::string key = txt::ascii_lower(*band_cell);
      for (std::size_t i = 0; i < s_.bands.size() && !rank; ++i) {
        const auto& values = s_.bands[i].values;
        if (std::find(values.begin(), values.end(), key) != values.end()) rank = i;
      }
      if (!rank) return ctx.reject(index, band_label, "unknown band value (not in bands)");
    } else if (norm && !s_.norm_bands.empty()) {
      for (const auto& t : s_.norm_bands) {
        if ((!t.min || *norm >= *t.min) && (!t.max || *norm <= *t.max)) {
          rank = t.band_rank;
          break;
        }
      }
      if (!rank) return ctx.reject(index, norm_label, "norm score outside every norm_bands range");
    } else {
      return ctx.reject(index, s_.col(field::band) ? band_label : norm_label,
                        "missing (a band, or a norm score to derive it, is needed)");
    }
    const band& bd = s_.bands[*rank];

    json evidence = {{"instrument", b.instrument},
                     {"respondent", b.respondent},
                     {"scale", sc.id},
                     {"band", bd.name},
                     {"band_rank", *rank}};
    if (norm) evidence["norm_score"] = number_json(*norm);
    if (b.round) evidence["round"] = *b.round;
    if (sc.competence) evidence["competence"] = *sc.competence;

    json content = {{"domain", sc.domain},
                    {"indicator", "tracking.scale"},
                    {"severity", bd.severity},
                    {"instrument", b.instrument}};
    // The contract's value is the raw score; a norm-only export carries the norm score there and
    // says so, so a consumer never compares the two kinds unknowingly.
    if (raw) {
      content["value"] = number_json(*raw);
    } else if (norm) {
      content["value"] = number_json(*norm);
      evidence["value_kind"] = "norm_score";
    }
    content["evidence"] = std::move(evidence);

    json source = json::object();
    source["record_id"] = b.record_id ? *b.record_id : b.instrument + ":" + b.date + ":" + b.respondent + ":" + sc.id;
    if (b.record_id && s_.wide) source["record_id"] = *b.record_id + ":" + sc.id;
    if (source["record_id"].get_ref<const std::string&>().size() > 128) source.erase("record_id");

    json signal = {
        {"type", measurement_type}, {"source", std::move(source)},   {"observed_at", b.date + "T00:00:00Z"},
        {"subject", b.subject},     {"content", std::move(content)}, {"governance", {{"data_category", "ordinary"}}}};
    ctx.emit(signal.dump(), index);
  }

  const settings& s_;
  labels labels_;
};

/** The body as UTF-8 text, or a value-free reason it cannot be. */
struct decoded {
  std::string text;
  std::string error;
};

decoded decode(std::string_view body, encoding enc) {
  const bool bom = txt::has_utf8_bom(body);
  if (bom) body.remove_prefix(3);
  if (enc == encoding::automatic) {
    enc = bom || txt::invalid_utf8_at(body) == std::string_view::npos ? encoding::utf8 : encoding::windows1252;
  }
  if (enc == encoding::windows1252 && !bom) return {txt::windows1252_to_utf8(body), {}};
  if (const std::size_t bad = txt::invalid_utf8_at(body); bad != std::string_view::npos) {
    return {{},
            "body is not valid UTF-8 at byte " + std::to_string(bad + (bom ? 4 : 1)) + " (settings encoding is utf-8)"};
  }
  return {std::string(body), {}};
}

std::vector<std::string_view> physical_lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::optional<std::string> cell_value(std::string_view cell) {
  const std::string_view t = txt::trim(cell);
  if (t.empty()) return std::nullopt;
  return std::string(t);
}

void ingest_csv(const settings& s, const std::string& text, sdk::ingest_context& ctx) {
  const auto lines = physical_lines(text);
  std::size_t h = 0;
  while (h < lines.size() && txt::trim(lines[h]).empty()) ++h;
  if (h == lines.size()) return ctx.fail("no header row (the body is empty)");
  const std::string line_ref = "line " + std::to_string(h + 1) + " (header row)";
  const char delimiter = s.delimiter != 0 ? s.delimiter : txt::detect_delimiter(lines[h]);
  const auto header = txt::split_csv_line(lines[h], delimiter);
  if (!header.error.empty()) return ctx.fail(line_ref + ": " + header.error);

  std::vector<std::string> names;
  for (const auto& cell : header.cells) names.emplace_back(txt::trim(cell));
  auto find_column = [&](const std::string& name) -> std::optional<std::size_t> {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (txt::iequals(names[i], name)) found = i;
    }
    return found;
  };
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::size_t j = i + 1; j < names.size(); ++j) {
      if (!names[i].empty() && txt::iequals(names[i], names[j])) {
        return ctx.fail(line_ref + ": column '" + names[i] + "' appears more than once");
      }
    }
  }

  labels l;
  std::array<std::optional<std::size_t>, field_count> field_at;
  for (std::size_t f = 0; f < field_count; ++f) {
    const auto& col = s.columns[f];
    if (!col) continue;
    l.fields[f] = *col;
    field_at[f] = find_column(*col);
    if (!field_at[f] && !optional_field(static_cast<field>(f))) {
      return ctx.fail(line_ref + ": missing column '" + *col + "' (" + std::string(field_name(static_cast<field>(f))) +
                      ")");
    }
  }
  std::vector<std::optional<std::size_t>> scale_at;
  if (s.wide) {
    bool any = false;
    for (const auto& sc : s.scales) {
      l.scales.push_back(sc.column);
      scale_at.push_back(find_column(sc.column));
      any = any || scale_at.back().has_value();
    }
    if (!any) return ctx.fail(line_ref + ": none of the scale columns is present");
  }
  const bool band_source =
      s.wide ? (s.wide_holds != cell_kind::raw_score || field_at[static_cast<std::size_t>(field::band)])
             : (field_at[static_cast<std::size_t>(field::band)] ||
                (field_at[static_cast<std::size_t>(field::norm_score)] && !s.norm_bands.empty()));
  if (!band_source) return ctx.fail(line_ref + ": neither the band column nor a norm score column is present");

  const row_mapper mapper(s, std::move(l));
  for (std::size_t i = h + 1; i < lines.size(); ++i) {
    if (txt::trim(lines[i]).empty()) continue;
    const auto index = static_cast<std::int64_t>(i + 1);
    const auto split = txt::split_csv_line(lines[i], delimiter);
    if (!split.error.empty()) {
      ctx.reject(index, "", split.error);
      continue;
    }
    if (split.cells.size() > names.size()) {
      const bool extra = std::any_of(split.cells.begin() + static_cast<std::ptrdiff_t>(names.size()), split.cells.end(),
                                     [](const std::string& c) { return !txt::trim(c).empty(); });
      if (extra) {
        ctx.reject(index, "", "more cells than the header row has columns");
        continue;
      }
    }
    row r;
    for (std::size_t f = 0; f < field_count; ++f) {
      if (field_at[f] && *field_at[f] < split.cells.size()) r.fields[f] = cell_value(split.cells[*field_at[f]]);
    }
    for (const auto& at : scale_at) {
      r.scale_cells.push_back(at && *at < split.cells.size() ? cell_value(split.cells[*at]) : std::nullopt);
    }
    mapper.map(r, index, ctx);
  }
}

/** A scalar JSON value as cell text; false with `bad` set for objects, arrays and booleans. */
bool json_cell(const json& obj, const std::string& key, std::optional<std::string>& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (it->is_string()) {
    out = cell_value(it->get_ref<const std::string&>());
    return true;
  }
  if (it->is_number()) {
    out = it->dump();
    return true;
  }
  return false;
}

void map_json_record(const row_mapper& mapper, const settings& s, const labels& l, const json& rec, std::int64_t index,
                     sdk::ingest_context& ctx) {
  if (!rec.is_object()) return ctx.reject(index, "", "record is not a JSON object");
  row r;
  for (std::size_t f = 0; f < field_count; ++f) {
    if (s.columns[f] && !json_cell(rec, *s.columns[f], r.fields[f])) {
      return ctx.reject(index, l.fields[f], "must be a string or a number");
    }
  }
  for (std::size_t i = 0; i < s.scales.size() && s.wide; ++i) {
    r.scale_cells.emplace_back();
    if (!json_cell(rec, s.scales[i].column, r.scale_cells.back())) {
      return ctx.reject(index, l.scales[i], "must be a string or a number");
    }
  }
  mapper.map(r, index, ctx);
}

void ingest_json(const settings& s, const std::string& text, bool ndjson, sdk::ingest_context& ctx) {
  labels l;
  for (std::size_t f = 0; f < field_count; ++f) {
    if (s.columns[f]) l.fields[f] = txt::json_pointer_of(*s.columns[f]);
  }
  for (const auto& sc : s.scales) l.scales.push_back(txt::json_pointer_of(sc.column));
  const row_mapper mapper(s, l);

  if (ndjson) {
    const auto lines = physical_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (txt::trim(lines[i]).empty()) continue;
      const auto index = static_cast<std::int64_t>(i);
      if (sdk::json_too_deep_at(lines[i], max_json_depth) != 0) {
        ctx.reject(index, "", "JSON nested deeper than " + std::to_string(max_json_depth) + " levels");
        continue;
      }
      json rec;
      try {
        rec = json::parse(lines[i]);
      } catch (const json::parse_error& e) {
        ctx.reject(index, "", "invalid JSON at byte " + std::to_string(e.byte));
        continue;
      } catch (const json::exception&) {
        ctx.reject(index, "", "invalid JSON");
        continue;
      }
      map_json_record(mapper, s, l, rec, index, ctx);
    }
    return;
  }

  if (const std::size_t deep = sdk::json_too_deep_at(text, max_json_depth); deep != 0) {
    return ctx.fail("JSON nested deeper than " + std::to_string(max_json_depth) + " levels at byte " +
                    std::to_string(deep));
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return ctx.fail("invalid JSON at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    return ctx.fail("invalid JSON");
  }
  const json* records = &doc;
  if (doc.is_object()) {
    const auto it = doc.find("records");
    if (it == doc.end() || !it->is_array()) return ctx.fail("a JSON object body needs a \"records\" array");
    records = &*it;
  }
  if (!records->is_array())
    return ctx.fail("the JSON body must be an array of records or an object with a \"records\" array");
  for (std::size_t i = 0; i < records->size(); ++i) {
    map_json_record(mapper, s, l, (*records)[i], static_cast<std::int64_t>(i), ctx);
  }
}

}  // namespace

connector::connector(std::string_view settings_json) : settings_(parse_settings(settings_json)) {}
connector::connector(settings s) : settings_(std::move(s)) {}

void connector::ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const {
  const body_format format = choose_format(content_type, body);
  // JSON is UTF-8 by definition; the encoding setting applies to CSV.
  const decoded d = decode(body, format == body_format::csv ? settings_.encoding : encoding::utf8);
  if (!d.error.empty()) return ctx.fail(d.error);
  if (format == body_format::csv) return ingest_csv(settings_, d.text, ctx);
  ingest_json(settings_, d.text, format == body_format::ndjson, ctx);
}

sdk::emitted_signals connector::emits() const {
  return {{std::string(measurement_type),
           {{"domain", "indicator", "severity", "instrument", "value"},
            {"instrument", "respondent", "scale", "band", "band_rank", "norm_score", "round", "competence",
             "value_kind"}}}};
}

}  // namespace schakel::connectors::tracking
