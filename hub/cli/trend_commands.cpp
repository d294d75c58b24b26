#include "cli/trend_commands.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/csv_table.hpp"
#include "trends/report.hpp"

namespace schakel::cli {
namespace {

using json = nlohmann::json;

using csv::located;

/** The problem+json detail of a reply, or a stand-in; control characters dropped, length bounded. */
std::string detail_of(const admin_reply& reply) {
  const auto answer = json::parse(reply.body, nullptr, false);
  std::string detail = "no detail";
  if (answer.is_object() && answer.contains("detail") && answer["detail"].is_string())
    detail = answer["detail"].get<std::string>();
  detail.erase(
      std::remove_if(detail.begin(), detail.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
      detail.end());
  if (detail.size() > 300) detail = detail.substr(0, 300) + "...";
  return detail;
}

/** The CSV column a pointer inside one class names ("/school/brin" → brin); "line" for anything else. */
std::string column_of(std::string_view member) {
  if (member.starts_with("/")) member.remove_prefix(1);
  if (member.starts_with("school/")) member.remove_prefix(7);
  if (member == "school") member = "brin";
  for (const std::string_view known : {"brin", "vestiging", "class", "leerjaar", "students", "valid_from"})
    if (member == known) return std::string(known);
  return "line";
}

/**
 * The refusals of a 422 to POST /v1/enrolment that point into `classes`, by index in the batch:
 * (column, reason), the first per class. Pointers outside the batch or elsewhere are left out.
 */
std::map<std::size_t, std::pair<std::string, std::string>> refusals_by_class(const json& answer,
                                                                             std::size_t batch_size) {
  std::map<std::size_t, std::pair<std::string, std::string>> out;
  if (!answer.is_object() || !answer.contains("errors") || !answer["errors"].is_array()) return out;
  constexpr std::string_view prefix = "/classes/";
  for (const auto& e : answer["errors"]) {
    if (!e.is_object() || !e.contains("field") || !e["field"].is_string()) continue;
    const std::string_view field = e["field"].get_ref<const std::string&>();
    if (!field.starts_with(prefix)) continue;
    std::string_view rest = field.substr(prefix.size());
    std::size_t index = 0, digits = 0;
    while (digits < rest.size() && digits < 6 && rest[digits] >= '0' && rest[digits] <= '9')
      index = index * 10 + static_cast<std::size_t>(rest[digits++] - '0');
    if (digits == 0 || (digits < rest.size() && rest[digits] != '/') || index >= batch_size) continue;
    rest.remove_prefix(digits);
    std::string reason = "refused by the hub (HTTP 422)";
    if (e.contains("reason") && e["reason"].is_string()) {
      reason = e["reason"].get<std::string>();
      reason.erase(
          std::remove_if(reason.begin(), reason.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
          reason.end());
      if (reason.size() > 300) reason = reason.substr(0, 300) + "...";
    }
    out.emplace(index, std::pair{column_of(rest), reason});
  }
  return out;
}

/** Writes `content` to `path` through a temporary beside it, so a failed write leaves no half file. */
bool write_file(const std::string& path, const std::string& content, std::ostream& err) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    f.close();
    if (!f) {
      err << "schakel: " << path << ": cannot be written\n";
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    err << "schakel: " << path << ": cannot be written (" << ec.message() << ")\n";
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

/** GET /v1/trends as JSON, or nullopt after printing why not. */
std::optional<json> fetch_trends(const trends_query& q, const admin_caller& call, std::ostream& err) {
  const std::string path = trends_path(q);
  admin_reply reply;
  try {
    reply = call("GET", path, "");
  } catch (const std::exception& e) {
    err << "schakel: cannot reach the hub: " << e.what() << "\n";
    return std::nullopt;
  }
  if (reply.status != 200) {
    err << "schakel: the hub answered HTTP " << reply.status << ": " << detail_of(reply) << "\n";
    return std::nullopt;
  }
  auto answer = json::parse(reply.body, nullptr, false);
  if (answer.is_discarded()) {
    err << "schakel: the hub's answer to GET /v1/trends is not JSON\n";
    return std::nullopt;
  }
  return answer;
}

}  // namespace

int import_enrolment(const trends::enrolment_csv& parsed, std::string_view file_label, const admin_caller& call,
                     std::ostream& out, std::ostream& err, std::size_t batch) {
  batch = std::clamp<std::size_t>(batch, 1, trends::max_enrolment_batch);
  for (const auto& e : parsed.errors) err << e << "\n";
  std::size_t recorded = 0, refused = parsed.errors.size();
  std::optional<std::size_t> stopped_at;

  for (std::size_t start = 0; start < parsed.rows.size() && !stopped_at; start += batch) {
    const auto first = parsed.rows.begin() + static_cast<std::ptrdiff_t>(start);
    std::vector<trends::enrolment_row> pending(
        first, first + static_cast<std::ptrdiff_t>(std::min(batch, parsed.rows.size() - start)));
    while (!pending.empty()) {
      admin_reply reply;
      try {
        reply = call("POST", "/v1/enrolment", trends::enrolment_request_body(pending).dump());
      } catch (const std::exception& e) {
        err << "schakel: cannot reach the hub: " << e.what() << "\n";
        stopped_at = pending.front().line;
        break;
      }
      if (reply.status == 200 || reply.status == 201) {
        recorded += pending.size();
        break;
      }
      if (reply.status != 422) {
        // Not about these lines (a wrong token, a hub that cannot store): the rest would fare the same.
        err << "schakel: the hub answered HTTP " << reply.status << ": " << detail_of(reply) << "\n";
        stopped_at = pending.front().line;
        break;
      }
      const auto refusals = refusals_by_class(json::parse(reply.body, nullptr, false), pending.size());
      if (refusals.empty()) {
        // The hub refused the batch without saying which class: every line of it is refused.
        const std::string reason = "refused by the hub (HTTP 422): " + detail_of(reply);
        for (const auto& row : pending) err << located(file_label, row.line, "line", reason) << "\n";
        refused += pending.size();
        break;
      }
      // The hub records nothing of a refused batch: report the refused classes, send the others again.
      std::vector<trends::enrolment_row> rest;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (const auto it = refusals.find(i); it != refusals.end()) {
          err << located(file_label, pending[i].line, it->second.first, it->second.second) << "\n";
          ++refused;
        } else {
          rest.push_back(std::move(pending[i]));
        }
      }
      pending = std::move(rest);
    }
  }
  out << recorded << " class(es) recorded, " << refused << " line(s) refused";
  if (stopped_at) out << "; stopped at line " << *stopped_at << ": it and the lines after it were not sent";
  out << "\n";
  if (stopped_at) return 2;
  return refused == 0 ? 0 : 1;
}

std::string trends_path(const trends_query& q) {
  std::string path = "/v1/trends";
  char sep = '?';
  const auto add = [&](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    path += sep;
    sep = '&';
    path += name;
    path += '=';
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.' || c == '~') {
        path += c;
      } else {
        constexpr char hex[] = "0123456789ABCDEF";
        path += '%';
        path += hex[u >> 4];
        path += hex[u & 15];
      }
    }
  };
  add("school", q.school);
  add("window", q.window);
  add("from", q.from);
  add("to", q.to);
  return path;
}

int export_trends(const trends_query& q, const std::string& out_file, const admin_caller& call, std::ostream& out,
                  std::ostream& err) {
  const auto answer = fetch_trends(q, call, err);
  if (!answer) return 2;
  std::string csv;
  try {
    csv = trends::trends_csv(*answer);
  } catch (const std::invalid_argument& e) {
    err << "schakel: the hub's answer to GET /v1/trends is not a trends document: " << e.what() << "\n";
    return 2;
  }
  if (out_file.empty()) {
    out << csv;
    return out ? 0 : 2;
  }
  if (!write_file(out_file, csv, err)) return 2;
  const auto lines = static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n'));
  err << "schakel: " << out_file << ": " << lines - 1 << " cell(s) written\n";
  return 0;
}

int plot_trends(const trends::plot_request& req, const std::string& out_file, const admin_caller& call,
                std::ostream& err) {
  const auto answer = fetch_trends({req.school, req.window_kind, {}, {}}, call, err);
  if (!answer) return 2;
  // A malformed document and a request that matches nothing both throw invalid_argument; tell them apart first.
  try {
    (void)trends::trend_rows(*answer);
  } catch (const std::invalid_argument& e) {
    err << "schakel: the hub's answer to GET /v1/trends is not a trends document: " << e.what() << "\n";
    return 2;
  }
  std::string svg;
  try {
    svg = trends::render_trend_svg(*answer, req);
  } catch (const std::invalid_argument& e) {
    err << "schakel: nothing to plot: " << e.what() << "\n";
    return 1;
  }
  return write_file(out_file, svg, err) ? 0 : 2;
}

namespace {

const std::vector<std::string> window_kinds{"week", "month", "year_to_date"};

CLI::Validator date_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string { return trends::is_iso_date(s) ? "" : "must be a date (YYYY-MM-DD)"; },
      "YYYY-MM-DD");
}

void add_hub_options(CLI::App* cmd, std::string& config, std::string& ca_file) {
  cmd->add_option("--config,-c", config, "The hub's configuration file")->required();
  cmd->add_option("--ca-file", ca_file, "CA bundle to verify the hub's TLS certificate");
}

/** A caller on the admin API of the hub `config_file` describes; nullopt (after saying why) on a config error. */
std::optional<admin_caller> caller_of(const std::string& config_file, const std::string& ca_file) {
  auto target = load_admin_target(config_file, ca_file, std::cerr);
  if (!target) return std::nullopt;
  return admin_caller(
      [target = std::move(*target)](const std::string& method, const std::string& path, const std::string& body) {
        return admin_request(target, method, path, body);
      });
}

}  // namespace

trend_commands::trend_commands(CLI::App& app) {
  enrolment_ = app.add_subcommand("enrolment", "Class enrolment, the denominators of trend rates (running hub)");
  enrolment_->require_subcommand(1);
  import_ = enrolment_->add_subcommand(
      "import", "Record class sizes from a CSV (brin, vestiging?, class, leerjaar, students, valid_from?)");
  add_hub_options(import_, config_, ca_file_);
  import_->add_option("file", csv_file_, "The enrolment CSV (; or , separated, with a header row)")->required();

  trends_ = app.add_subcommand("trends", "Released regional trends (running hub)");
  trends_->require_subcommand(1);
  export_ = trends_->add_subcommand("export", "Write the released trend cells as CSV");
  add_hub_options(export_, config_, ca_file_);
  export_->add_option("--school", query_.school, "Only this school (BRIN + vestiging, e.g. 12AB00)");
  export_->add_option("--window", query_.window, "Only this window kind")->check(CLI::IsMember(window_kinds));
  export_->add_option("--from", query_.from, "Only windows ending on or after this date")->check(date_check());
  export_->add_option("--to", query_.to, "Only windows ending on or before this date")->check(date_check());
  export_->add_option("--out,-o", out_file_, "Write the CSV to this file (default: stdout)");

  plot_ = trends_->add_subcommand("plot", "Draw one measure of one group over time as SVG; suppressed windows marked");
  add_hub_options(plot_, config_, ca_file_);
  plot_->add_option("--school", plot_req_.school, "The school (BRIN + vestiging, e.g. 12AB00)")->required();
  auto* leerjaar =
      plot_->add_option("--leerjaar", plot_req_.leerjaar, "Draw this leerjaar (default: the whole school)");
  auto* klass = plot_->add_option("--class", plot_req_.klass, "Draw this class (default: the whole school)");
  leerjaar->excludes(klass);
  klass->excludes(leerjaar);
  plot_->add_option("--measure", plot_req_.measure, "The measure, e.g. students_concern")->required();
  plot_->add_option("--category", plot_req_.category, "The category of a distribution measure");
  plot_->add_option("--window", plot_req_.window_kind, "The window kind (default week)")
      ->check(CLI::IsMember(window_kinds));
  plot_->add_flag("--value", value_, "Draw the value (students or hours) instead of the rate");
  plot_->add_option("--out,-o", out_file_, "The SVG file to write")->required();
}

bool trend_commands::selected() const {
  return enrolment_->parsed() || trends_->parsed();
}

int trend_commands::run() {
  try {
    if (import_->parsed()) {
      const auto text = read_input_file(csv_file_, std::cerr);
      if (!text) return 2;
      const auto call = caller_of(config_, ca_file_);
      if (!call) return 2;
      return import_enrolment(trends::parse_enrolment_csv(*text, csv_file_), csv_file_, *call, std::cout, std::cerr);
    }
    const auto call = caller_of(config_, ca_file_);
    if (!call) return 2;
    if (export_->parsed()) return export_trends(query_, out_file_, *call, std::cout, std::cerr);
    auto req = plot_req_;
    req.level = !req.klass.empty() ? "class" : !req.leerjaar.empty() ? "leerjaar" : "school";
    req.rate = !value_;
    return plot_trends(req, out_file_, *call, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "schakel: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace schakel::cli
