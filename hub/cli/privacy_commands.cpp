#include "cli/privacy_commands.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/admin_client.hpp"
#include "cli/audit_cli.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "privacy/audit_key.hpp"
#include "privacy/report.hpp"

namespace schakel::cli {
namespace {

/** Midnight UTC of a YYYY-MM-DD date in Unix ms; false when it is not a date. */
bool day_start_ms(const std::string& text, std::int64_t& out) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return false;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return false;
  out = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::sys_days{ymd}.time_since_epoch()).count();
  return true;
}

std::string today_utc() {
  const auto days = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

int fail(const std::string& message) {
  std::cerr << "schakel: " << message << "\n";
  return 1;
}

}  // namespace

privacy_commands::privacy_commands(CLI::App& app) {
  audit_ = app.add_subcommand("audit", "Check or export the hash-chained audit trail");
  audit_->require_subcommand(1);
  audit_verify_ =
      audit_->add_subcommand("verify", "Check the chain; names the first changed, removed or reordered record");
  audit_verify_->add_option("--config,-c", config_, "The hub's configuration file")->required();
  audit_verify_->add_option("--checkpoints", checkpoints_,
                            "Check against these checkpoint lines (e.g. what the audit witness received) instead of "
                            "audit.checkpoint_file");
  audit_export_ = audit_->add_subcommand("export", "Write audit records as JSON lines");
  audit_export_->add_option("--config,-c", config_, "The hub's configuration file")->required();
  audit_export_->add_option("--from", from_, "First day (YYYY-MM-DD, UTC), inclusive");
  audit_export_->add_option("--to", to_, "Last day (YYYY-MM-DD, UTC), inclusive");

  auto* privacy = app.add_subcommand("privacy", "Privacy officer's view of a configuration");
  privacy->require_subcommand(1);
  report_ = privacy->add_subcommand("report", "What goes to whom, why and for how long (Markdown, or CSV)");
  report_->add_option("config", report_config_, "Configuration file")->required();
  report_->add_flag("--csv", csv_, "CSV instead of Markdown");

  consent_ = app.add_subcommand("consent", "Record or list consent, withdrawal and objections (running hub)");
  consent_->require_subcommand(1);
  const auto common = [&](CLI::App* c, bool statement) {
    c->add_option("--config,-c", config_, "The hub's configuration file")->required();
    c->add_option("--school", school_, "BRIN of the student's school")->required();
    c->add_option("--subject-file", subject_file_,
                  statement ? "File with student_key=… and birth_date=… lines (default, or -: stdin)"
                            : "File with a student_key=… line (default, or -: stdin)");
    c->add_option("--student", argv_student_)->group("");
    c->add_option("--birth-date", argv_birth_date_)->group("");
    c->add_option("--ca-file", ca_file_, "CA bundle to verify the hub's TLS certificate");
    if (!statement) return;
    c->add_option("--given-by", given_by_, "parent or student")->required();
    c->add_option("--partner", partner_, "Scope: a partner (as in the subscription's partner)");
    c->add_option("--purpose", purpose_, "Scope: a purpose (as in the subscription's privacy.purpose)");
    c->add_option("--on", on_, "Date it was given (YYYY-MM-DD), default today");
  };
  auto* record = consent_->add_subcommand("record", "Record a consent");
  common(record, true);
  record->add_option("--expires", expires_, "Last valid day (YYYY-MM-DD)");
  common(consent_->add_subcommand("withdraw", "Record a withdrawal of consent"), true);
  common(consent_->add_subcommand("object", "Record an objection (AVG art. 21)"), true);
  common(consent_->add_subcommand("lift-objection", "Record that an objection was withdrawn"), true);
  consent_list_ = consent_->add_subcommand("list", "List one student's records");
  common(consent_list_, false);
}

bool privacy_commands::selected() const {
  return audit_->parsed() || report_->parsed() || consent_->parsed();
}

int privacy_commands::run() {
  if (report_->parsed()) return run_report();
  if (audit_->parsed()) return run_audit();
  return run_consent();
}

int privacy_commands::run_report() {
  const auto cfg = config::load_config_file(report_config_);
  std::cout << (csv_ ? privacy::privacy_report_csv(cfg) : privacy::privacy_report_markdown(cfg));
  return 0;
}

int privacy_commands::run_audit() {
  const auto cfg = config::load_config_file(config_);
  // The store's own open/close lines would only clutter what an FG reads or pipes on.
  log::set_level(log::level::warn);
  const std::string db = (std::filesystem::path(cfg.data_dir) / "schakel.db").string();
  if (!std::filesystem::exists(db)) return fail(db + ": no database (has the hub ever run with this data_dir?)");
  if (audit_verify_->parsed()) {
    const auto files = privacy::audit_files_of(cfg);
    audit::verify_keys keys{
        .chain_key_file = files.chain_key,
        .public_key = files.public_key,
        .checkpoints = checkpoints_.empty() ? files.checkpoints : std::filesystem::path(checkpoints_)};
    try {
      keys.chain_key = privacy::audit_chain_key(cfg, false);
    } catch (const std::exception& e) {
      std::cerr << "schakel: " << e.what() << "\n";
      return 2;  // as for a database that cannot be read: nothing was verified
    }
    return audit::run_audit_verify(db, keys, std::cout, std::cerr);
  }
  std::int64_t from = INT64_MIN, to = INT64_MAX;
  if (!from_.empty() && !day_start_ms(from_, from)) return fail("--from: not a date YYYY-MM-DD");
  if (!to_.empty()) {
    if (!day_start_ms(to_, to)) return fail("--to: not a date YYYY-MM-DD");
    to += 24 * 3600 * 1000;  // inclusive: up to the end of that day
  }
  return audit::run_audit_export(db, from, to, std::cout, std::cerr);
}

std::string read_consent_subject(std::istream& in, const std::string& label, bool need_birth_date,
                                 consent_subject& out) {
  out = {};
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const std::string at = label + ":" + std::to_string(number) + ": ";
    const auto eq = line.find('=');
    const std::string name = line.substr(0, eq);
    std::string* field = name == "student_key" ? &out.student_key : name == "birth_date" ? &out.birth_date : nullptr;
    if (eq == std::string::npos || field == nullptr)
      return at + "expected student_key=… or birth_date=… (the line is not repeated here)";
    if (field == &out.birth_date && !need_birth_date) return at + "birth_date: not used by consent list";
    if (!field->empty()) return at + name + ": given twice";
    *field = line.substr(eq + 1);
    if (field->empty()) return at + name + ": empty";
  }
  if (out.student_key.empty()) return label + ": student_key=… is missing";
  if (need_birth_date && out.birth_date.empty()) return label + ": birth_date=… is missing";
  return {};
}

int privacy_commands::run_consent() {
  if (!argv_student_.empty() || !argv_birth_date_.empty())
    return fail(std::string(!argv_student_.empty() ? "--student" : "--birth-date") +
                ": not taken on the command line, where ps and the shell history show it; put student_key=… and "
                "birth_date=… lines in a file for --subject-file, or on stdin");
  const bool statement = !consent_list_->parsed();
  consent_subject subject;
  std::string subject_error;
  if (subject_file_.empty() || subject_file_ == "-") {
    subject_error = read_consent_subject(std::cin, "stdin", statement, subject);
  } else {
    std::ifstream in(subject_file_);
    if (!in) return fail(subject_file_ + ": cannot read");
    subject_error = read_consent_subject(in, subject_file_, statement, subject);
  }
  if (!subject_error.empty()) return fail(subject_error);
  const auto cfg = config::load_config_file(config_);
  auto target = admin_target_from(cfg, ca_file_);
  nlohmann::json body = {{"school", school_}, {"student_key", subject.student_key}};
  std::string path = "/v1/consents/lookup";
  if (!consent_list_->parsed()) {
    path = "/v1/consents";
    std::string kind = "consent";
    for (const auto* sub : consent_->get_subcommands()) {
      if (sub->get_name() == "withdraw") kind = "withdrawal";
      if (sub->get_name() == "object") kind = "objection";
      if (sub->get_name() == "lift-objection") kind = "objection_withdrawal";
    }
    body["kind"] = kind;
    body["birth_date"] = subject.birth_date;
    body["given_by"] = given_by_;
    if (!partner_.empty()) body["partner"] = partner_;
    if (!purpose_.empty()) body["purpose"] = purpose_;
    // Default today in UTC, as the hub reckons its days.
    body["given_on"] = on_.empty() ? today_utc() : on_;
    if (!expires_.empty()) body["expires_on"] = expires_;
  }
  auto reply = admin_request(target, "POST", path, body.dump());
  auto answer = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status != 200 && reply.status != 201) {
    std::string detail = answer.is_object() ? answer.value("detail", reply.body) : reply.body;
    return fail("HTTP " + std::to_string(reply.status) + ": " + detail);
  }
  if (consent_list_->parsed()) {
    for (const auto& r : answer["records"]) std::cout << r.dump() << "\n";
    std::cout << answer["records"].size() << " record(s)\n";
  } else {
    std::cout << "recorded " << answer.value("kind", "") << " " << answer.value("id", std::int64_t{0}) << "\n";
  }
  return 0;
}

}  // namespace schakel::cli
