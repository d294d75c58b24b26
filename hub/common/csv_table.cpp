#include "common/csv_table.hpp"

#include <algorithm>

namespace schakel::csv {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string column_name(std::string_view s) {
  std::string out;
  for (const char c : trim(s)) {
    if (c == ' ' || c == '-')
      out += '_';
    else if (c >= 'A' && c <= 'Z')
      out += static_cast<char>(c - 'A' + 'a');
    else
      out += c;
  }
  return out;
}

std::optional<std::vector<std::string>> split_fields(std::string_view line, char delim) {
  std::vector<std::string> fields;
  std::string field;
  bool in_quotes = false, was_quoted = false;
  auto finish = [&] {
    fields.push_back(was_quoted ? field : std::string(trim(field)));
    field.clear();
    was_quoted = false;
  };
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c != '"') {
        field += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else {
        in_quotes = false;
      }
    } else if (c == '"' && trim(field).empty() && !was_quoted) {
      in_quotes = was_quoted = true;
      field.clear();
    } else if (c == delim) {
      finish();
    } else if (!(was_quoted && (c == ' ' || c == '\t'))) {
      field += c;  // text after a closing quote is kept, as spreadsheets do
    }
  }
  if (in_quotes) return std::nullopt;
  finish();
  return fields;
}

char detect_delimiter(std::string_view header) {
  std::size_t semicolons = 0, commas = 0;
  bool quoted = false;
  for (const char c : header) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    semicolons += c == ';' ? 1 : 0;
    commas += c == ',' ? 1 : 0;
  }
  return semicolons > commas ? ';' : ',';
}

std::string located(std::string_view label, std::size_t line, std::string_view column, std::string_view reason) {
  std::string out(label);
  out += ':';
  out += std::to_string(line);
  out += ": ";
  out += column;
  out += ": ";
  out += reason;
  return out;
}

table read_table(std::string_view text, std::string_view label, std::span<const column> columns,
                 std::string_view header_hint) {
  table result;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

  std::vector<std::optional<std::size_t>> at(columns.size());  // each column's position in a line
  std::size_t header_fields = 0;
  bool have_header = false;
  char delim = ',';

  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(line).empty()) continue;

    if (!have_header) {
      have_header = true;
      delim = detect_delimiter(line);
      const auto fields = split_fields(line, delim);
      if (!fields) {
        result.errors.push_back(located(label, line_no, "header", "a quote is not closed"));
        return result;
      }
      header_fields = fields->size();
      for (std::size_t i = 0; i < fields->size(); ++i) {
        const auto name = column_name((*fields)[i]);
        for (std::size_t c = 0; c < columns.size(); ++c) {
          if (name != columns[c].name) continue;
          if (at[c])
            result.errors.push_back(located(label, line_no, columns[c].name, "the column appears twice in the header"));
          at[c] = i;
        }
      }
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (at[c] || !columns[c].required) continue;
        result.errors.push_back(located(label, line_no, columns[c].name,
                                        "missing column in the header (" + std::string(header_hint) + ")"));
      }
      if (!result.errors.empty()) return result;
      continue;
    }

    record rec;
    rec.line = line_no;
    const auto fields = split_fields(line, delim);
    if (!fields) {
      rec.error = located(label, line_no, "line", "a quote is not closed");
      result.records.push_back(std::move(rec));
      continue;
    }
    // Trailing delimiters (empty fields past the header) are not worth refusing a line for.
    const bool only_empty_extra =
        fields->size() > header_fields && std::all_of(fields->begin() + static_cast<std::ptrdiff_t>(header_fields),
                                                      fields->end(), [](const std::string& f) { return f.empty(); });
    if (fields->size() != header_fields && !only_empty_extra) {
      rec.error =
          located(label, line_no, "line",
                  std::to_string(fields->size()) + " field(s) where the header has " + std::to_string(header_fields));
      result.records.push_back(std::move(rec));
      continue;
    }
    rec.fields.reserve(columns.size());
    for (const auto& i : at) rec.fields.push_back(i ? (*fields)[*i] : std::string());
    result.records.push_back(std::move(rec));
  }
  if (!have_header)
    result.errors.push_back(
        located(label, 1, "header", "missing; the file is empty (" + std::string(header_hint) + ")"));
  return result;
}

}  // namespace schakel::csv
