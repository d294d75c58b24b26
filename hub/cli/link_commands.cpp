#include "cli/link_commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "config/config.hpp"
#include "privacy/bsn.hpp"

namespace schakel::cli {
namespace {

using json = nlohmann::json;

constexpr std::string_view expected_columns = "the header needs bsn, brin, student_key; vestiging is optional";
constexpr std::size_t max_student_key = 64;  // as POST /v1/links accepts

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/** Header names compare without case, spaces or dashes: "Student key" and "STUDENT-KEY" are student_key. */
std::string column_name(std::string_view s) {
  std::string out;
  for (const char c : trim(s))
    out += (c == ' ' || c == '-') ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/**
 * The fields of one line; nullopt when a quote is not closed. Quoted fields may contain the
 * delimiter and "" for a quote; a field that spans lines is not supported (linking tables have none).
 */
std::optional<std::vector<std::string>> split_fields(std::string_view line, char delim) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        field += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"' && trim(field).empty()) {
      quoted = was_quoted = true;
      field.clear();
    } else if (c == delim) {
      fields.push_back(was_quoted ? field : std::string(trim(field)));
      field.clear();
      was_quoted = false;
    } else if (!(was_quoted && (c == ' ' || c == '\t'))) {
      field += c;
    }
  }
  if (quoted) return std::nullopt;
  fields.push_back(was_quoted ? field : std::string(trim(field)));
  return fields;
}

/** The delimiter the header uses: the more frequent of `;` and `,` outside quotes (`,` when neither). */
char detect_delimiter(std::string_view header) {
  std::size_t semicolons = 0, commas = 0;
  bool quoted = false;
  for (const char c : header) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    semicolons += c == ';';
    commas += c == ',';
  }
  return semicolons > commas ? ';' : ',';
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool all_alnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
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

/** Why a row's values cannot make a link, as "column: reason" (never the value); empty when they can. */
std::pair<std::string, std::string> check_row(link_row& row) {
  if (row.bsn.empty()) return {"bsn", "empty (required)"};
  if (!privacy::is_bsn(row.bsn)) return {"bsn", "not a BSN (8 or 9 digits passing the 11-test)"};
  // Some exports write BRIN and vestiging as one code (12AB00).
  if (row.brin.size() == 6 && row.vestiging.empty() && all_digits(std::string_view(row.brin).substr(4))) {
    row.vestiging = row.brin.substr(4);
    row.brin.resize(4);
  }
  if (row.brin.empty()) return {"brin", "empty (required)"};
  if (row.brin.size() != 4 || !all_alnum(row.brin)) return {"brin", "not a BRIN (4 letters or digits, e.g. 12AB)"};
  if (!row.vestiging.empty() && (row.vestiging.size() != 2 || !all_digits(row.vestiging)))
    return {"vestiging", "not a vestiging number (2 digits, or empty)"};
  if (row.student_key.empty()) return {"student_key", "empty (required)"};
  if (row.student_key.size() > max_student_key)
    return {"student_key", "longer than " + std::to_string(max_student_key) + " characters"};
  return {};
}

}  // namespace

link_csv parse_link_csv(std::string_view text, std::string_view file_label) {
  link_csv result;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

  // Column positions, found from the header.
  enum column { bsn_col, brin_col, vestiging_col, student_key_col, column_count };
  constexpr std::array<std::string_view, column_count> names{"bsn", "brin", "vestiging", "student_key"};
  std::array<std::optional<std::size_t>, column_count> at{};
  std::size_t header_fields = 0;
  bool have_header = false;
  char delim = ',';
  std::map<std::string, std::size_t> line_of_bsn;  // 9-digit form → first line, to refuse a second link

  std::size_t line_no = 0;
  std::size_t pos = 0;
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
        result.errors.push_back(located(file_label, line_no, "header", "a quote is not closed"));
        return result;
      }
      header_fields = fields->size();
      bool bad = false;
      for (std::size_t i = 0; i < fields->size(); ++i) {
        const auto name = column_name((*fields)[i]);
        for (std::size_t c = 0; c < column_count; ++c) {
          if (name != names[c]) continue;
          if (at[c]) {
            result.errors.push_back(located(file_label, line_no, names[c], "the column appears twice in the header"));
            bad = true;
          }
          at[c] = i;
        }
      }
      for (const auto c : {bsn_col, brin_col, student_key_col}) {
        if (at[c]) continue;
        result.errors.push_back(located(file_label, line_no, names[c],
                                        "missing column in the header (" + std::string(expected_columns) + ")"));
        bad = true;
      }
      if (bad) return result;
      continue;
    }

    const auto fields = split_fields(line, delim);
    if (!fields) {
      result.errors.push_back(located(file_label, line_no, "line", "a quote is not closed"));
      continue;
    }
    // A trailing delimiter (an empty last field) is not worth refusing a line for.
    const bool extra_only_empty =
        fields->size() > header_fields && std::all_of(fields->begin() + static_cast<std::ptrdiff_t>(header_fields),
                                                      fields->end(), [](const std::string& f) { return f.empty(); });
    if (fields->size() != header_fields && !extra_only_empty) {
      result.errors.push_back(
          located(file_label, line_no, "line",
                  std::to_string(fields->size()) + " field(s) where the header has " + std::to_string(header_fields)));
      continue;
    }
    link_row row;
    row.line = line_no;
    row.bsn = (*fields)[*at[bsn_col]];
    row.brin = (*fields)[*at[brin_col]];
    if (at[vestiging_col]) row.vestiging = (*fields)[*at[vestiging_col]];
    row.student_key = (*fields)[*at[student_key_col]];
    if (const auto [col, reason] = check_row(row); !col.empty()) {
      result.errors.push_back(located(file_label, line_no, col, reason));
      continue;
    }
    const std::string nine = row.bsn.size() == 8 ? "0" + row.bsn : row.bsn;
    if (const auto [it, fresh] = line_of_bsn.emplace(nine, line_no); !fresh) {
      result.errors.push_back(located(file_label, line_no, "bsn",
                                      "the same BSN as line " + std::to_string(it->second) + " (one link per BSN)"));
      continue;
    }
    result.rows.push_back(std::move(row));
  }
  if (!have_header)
    result.errors.push_back(
        located(file_label, 1, "header", "missing; the file is empty (" + std::string(expected_columns) + ")"));
  return result;
}

json link_request_body(const link_row& row) {
  json school = {{"brin", row.brin}};
  if (!row.vestiging.empty()) school["vestiging"] = row.vestiging;
  return {{"bsn", row.bsn}, {"school", std::move(school)}, {"student_key", row.student_key}};
}

namespace {

/** "column: reason" from a 422 problem of POST /v1/links, with the CSV's column names; never a value of `row`. */
std::pair<std::string, std::string> refusal(const json& answer, const link_row& row) {
  std::string column = "line", reason = "refused by the hub (HTTP 422)";
  if (answer.is_object() && answer.contains("errors") && answer["errors"].is_array() && !answer["errors"].empty()) {
    const auto& e = answer["errors"][0];
    if (e.is_object() && e.contains("field") && e["field"].is_string()) {
      column = e["field"].get<std::string>();
      if (column.starts_with('/')) column.erase(0, 1);
      if (column.starts_with("school/")) column.erase(0, 7);
      if (column.empty()) column = "line";
    }
    if (e.is_object() && e.contains("reason") && e["reason"].is_string()) reason = e["reason"].get<std::string>();
  }
  // The hub promises not to echo values; should one ever do, it still does not reach the terminal.
  for (const auto* value : {&row.bsn, &row.student_key}) {
    if (!value->empty() && (reason.find(*value) != std::string::npos || column.find(*value) != std::string::npos)) {
      column = "line";
      reason = "refused by the hub (HTTP 422)";
    }
  }
  return {column, reason};
}

std::string problem_detail(const admin_reply& reply) {
  const auto answer = json::parse(reply.body, nullptr, false);
  if (answer.is_object() && answer.contains("detail") && answer["detail"].is_string())
    return answer["detail"].get<std::string>();
  return "no detail";
}

}  // namespace

int import_links(const link_csv& parsed, std::string_view file_label, const link_poster& post, std::ostream& out,
                 std::ostream& err) {
  for (const auto& e : parsed.errors) err << e << "\n";
  std::size_t recorded = 0, moved = 0, refused = parsed.errors.size();
  std::optional<std::size_t> stopped_at;
  for (const auto& row : parsed.rows) {
    admin_reply reply;
    try {
      reply = post(link_request_body(row).dump());
    } catch (const std::exception& e) {
      err << "schakel: cannot reach the hub: " << e.what() << "\n";
      stopped_at = row.line;
      break;
    }
    const auto answer = json::parse(reply.body, nullptr, false);
    if (reply.status == 201) {
      ++recorded;
      if (answer.is_object()) {
        moved += answer.value("unparked", std::size_t{0});
        if (const auto stay = answer.value("refused", std::size_t{0}); stay > 0)
          err << located(file_label, row.line, "note",
                         std::to_string(stay) +
                             " parked report(s) for this link no longer validate and stay parked (see the hub's log)")
              << "\n";
      }
    } else if (reply.status == 422) {
      ++refused;
      const auto [column, reason] = refusal(answer, row);
      err << located(file_label, row.line, column, reason) << "\n";
    } else {
      // Not about this line (a wrong token, a hub that cannot store): the next lines would fare the same.
      err << "schakel: the hub answered HTTP " << reply.status << ": " << problem_detail(reply) << "\n";
      stopped_at = row.line;
      break;
    }
  }
  out << recorded << " link(s) recorded, " << moved << " parked report(s) moved on, " << refused << " line(s) refused";
  if (stopped_at) out << "; stopped at line " << *stopped_at << ": it and the lines after it were not sent";
  out << "\n";
  if (stopped_at) return 2;
  return refused == 0 ? 0 : 1;
}

bool print_parked(const json& answer, std::ostream& out) {
  if (!answer.is_object() || !answer.contains("parked") || !answer["parked"].is_array()) return false;
  const auto& list = answer["parked"];
  if (list.empty()) {
    out << "no reports are waiting for a link\n";
    return true;
  }
  constexpr std::array<const char*, 4> keys{"id", "instance", "type", "received_at"};
  std::vector<std::array<std::string, 4>> rows{{"ID", "INSTANCE", "TYPE", "RECEIVED_AT"}};
  for (const auto& p : list) {
    if (!p.is_object()) return false;
    std::array<std::string, 4> row;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto it = p.find(keys[i]);
      row[i] = it != p.end() && it->is_string() ? it->get<std::string>() : "-";
    }
    rows.push_back(std::move(row));
  }
  std::array<std::size_t, 4> width{};
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  out << list.size() << " report(s) waiting for a link\n";
  return true;
}

link_commands::link_commands(CLI::App& app) {
  links_ = app.add_subcommand("links", "Link JGZ reports to students (running hub)");
  links_->require_subcommand(1);
  import_ = links_->add_subcommand(
      "import",
      "Record the links of a CSV linking table (bsn, brin, vestiging?, student_key); refused lines on stderr");
  import_->add_option("--config,-c", config_, "The hub's configuration file")->required();
  import_->add_option("--ca-file", ca_file_, "CA bundle to verify the hub's TLS certificate");
  import_->add_option("file", csv_file_, "The linking table (CSV, ; or , separated, with a header row)")->required();

  parked_ = app.add_subcommand("parked", "JGZ reports waiting for a link (running hub)");
  parked_->require_subcommand(1);
  parked_list_ = parked_->add_subcommand("list", "List the reports waiting for a link: id, instance, type, received");
  parked_list_->add_option("--config,-c", config_, "The hub's configuration file")->required();
  parked_list_->add_option("--ca-file", ca_file_, "CA bundle to verify the hub's TLS certificate");
  parked_list_->add_flag("--json", json_, "The hub's JSON answer as is");
}

bool link_commands::selected() const {
  return links_->parsed() || parked_->parsed();
}

int link_commands::run() {
  try {
    return import_->parsed() ? run_import() : run_parked();
  } catch (const std::exception& e) {
    std::cerr << "schakel: " << e.what() << "\n";
    return 2;
  }
}

namespace {

/** The admin API of the hub `config_file` describes; prints why not and returns nullopt on a config error. */
std::optional<admin_target> target_of(const std::string& config_file, const std::string& ca_file) {
  try {
    return admin_target_from(config::load_config_file(config_file), ca_file);
  } catch (const std::exception& e) {
    std::cerr << "schakel: cannot load the configuration: " << e.what() << "\n";
    return std::nullopt;
  }
}

}  // namespace

int link_commands::run_import() {
  std::ifstream in(csv_file_, std::ios::binary);
  if (!in) {
    std::cerr << "schakel: " << csv_file_ << ": cannot be read\n";
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const auto target = target_of(config_, ca_file_);
  if (!target) return 2;
  const auto parsed = parse_link_csv(text.str(), csv_file_);
  return import_links(
      parsed, csv_file_, [&](const std::string& body) { return admin_request(*target, "POST", "/v1/links", body); },
      std::cout, std::cerr);
}

int link_commands::run_parked() {
  const auto target = target_of(config_, ca_file_);
  if (!target) return 2;
  admin_reply reply;
  try {
    reply = admin_request(*target, "GET", "/v1/parked");
  } catch (const std::exception& e) {
    std::cerr << "schakel: cannot reach the hub: " << e.what() << "\n";
    return 2;
  }
  if (reply.status != 200) {
    std::cerr << "schakel: the hub answered HTTP " << reply.status << ": " << problem_detail(reply) << "\n";
    return 2;
  }
  if (json_) {
    std::cout << reply.body << "\n";
    return 0;
  }
  if (!print_parked(json::parse(reply.body, nullptr, false), std::cout)) {
    std::cerr << "schakel: the hub's answer to GET /v1/parked is not the expected JSON\n";
    return 2;
  }
  return 0;
}

}  // namespace schakel::cli
