#include "cli/link_commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iostream>
#include <map>
#include <optional>

#include "common/csv_table.hpp"
#include "common/school_id.hpp"
#include "privacy/bsn.hpp"

namespace schakel::cli {
namespace {

using json = nlohmann::json;

constexpr std::string_view expected_columns = "the header needs bsn, brin, student_key; vestiging is optional";
constexpr std::size_t max_student_key = 64;  // as POST /v1/links accepts

using csv::located;

/** Why a row's values cannot make a link, as "column: reason" (never the value); empty when they can. */
std::pair<std::string, std::string> check_row(link_row& row) {
  if (row.bsn.empty()) return {"bsn", "empty (required)"};
  if (!privacy::is_bsn(row.bsn)) return {"bsn", "not a BSN (8 or 9 digits passing the 11-test)"};
  split_combined_school_code(row.brin, row.vestiging);
  if (row.brin.empty()) return {"brin", "empty (required)"};
  // Capitals only, like the signal schema: a link for "12ab" would never match a report.
  if (!is_brin(row.brin)) return {"brin", "not a BRIN (4 capital letters or digits, e.g. 12AB)"};
  if (!row.vestiging.empty() && !is_vestiging(row.vestiging))
    return {"vestiging", "not a vestiging number (2 digits, or empty)"};
  if (row.student_key.empty()) return {"student_key", "empty (required)"};
  if (row.student_key.size() > max_student_key)
    return {"student_key", "longer than " + std::to_string(max_student_key) + " characters"};
  return {};
}

}  // namespace

link_csv parse_link_csv(std::string_view text, std::string_view file_label) {
  enum column { bsn_col, brin_col, vestiging_col, student_key_col, column_count };
  constexpr std::array<csv::column, column_count> columns{{{"bsn"}, {"brin"}, {"vestiging", false}, {"student_key"}}};
  auto table = csv::read_table(text, file_label, columns, expected_columns);
  link_csv result;
  result.errors = std::move(table.errors);
  std::map<std::string, std::size_t> line_of_bsn;  // 9-digit form → first line, to refuse a second link
  for (auto& rec : table.records) {
    if (!rec.error.empty()) {
      result.errors.push_back(std::move(rec.error));
      continue;
    }
    link_row row;
    row.line = rec.line;
    row.bsn = std::move(rec.fields[bsn_col]);
    row.brin = std::move(rec.fields[brin_col]);
    row.vestiging = std::move(rec.fields[vestiging_col]);
    row.student_key = std::move(rec.fields[student_key_col]);
    if (const auto [col, reason] = check_row(row); !col.empty()) {
      result.errors.push_back(located(file_label, rec.line, col, reason));
      continue;
    }
    const std::string nine = row.bsn.size() == 8 ? "0" + row.bsn : row.bsn;
    if (const auto [it, fresh] = line_of_bsn.emplace(nine, rec.line); !fresh) {
      result.errors.push_back(located(file_label, rec.line, "bsn",
                                      "the same BSN as line " + std::to_string(it->second) + " (one link per BSN)"));
      continue;
    }
    result.rows.push_back(std::move(row));
  }
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

int link_commands::run_import() {
  const auto text = read_input_file(csv_file_, std::cerr);
  if (!text) return 2;
  const auto target = load_admin_target(config_, ca_file_, std::cerr);
  if (!target) return 2;
  return import_links(
      parse_link_csv(*text, csv_file_), csv_file_,
      [&](const std::string& body) { return admin_request(*target, "POST", "/v1/links", body); }, std::cout, std::cerr);
}

int link_commands::run_parked() {
  const auto target = load_admin_target(config_, ca_file_, std::cerr);
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
