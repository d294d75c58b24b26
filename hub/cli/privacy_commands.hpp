#pragma once
/**
 * The privacy officer's and administrator's commands: `schakel audit verify|export`,
 * `schakel privacy report`, `schakel consent record|withdraw|object|lift-objection|list`.
 */
#include <cstdint>
#include <istream>
#include <string>

#include <CLI/CLI.hpp>

namespace schakel::cli {

/** Whom a consent command is about; read from stdin or a file, never from the command line. */
struct consent_subject {
  std::string student_key;
  std::string birth_date;
};

/**
 * Reads `name=value` lines (student_key, birth_date; empty lines and `#` comments skipped) from `in`.
 * Returns "" or an error "<label>:<line>: why" that never quotes the line (it may hold a key).
 * `need_birth_date`: whether birth_date is required (statements) or refused (list).
 */
std::string read_consent_subject(std::istream& in, const std::string& label, bool need_birth_date,
                                 consent_subject& out);

class privacy_commands {
 public:
  /** Adds the subcommands to `app`. */
  explicit privacy_commands(CLI::App& app);
  /** True when one of them was chosen on the command line. */
  bool selected() const;
  /** Runs the chosen one; the process exit code. Throws on configuration or transport errors. */
  int run();

 private:
  int run_consent();
  int run_audit();
  int run_report();

  CLI::App* audit_ = nullptr;
  CLI::App* audit_verify_ = nullptr;
  CLI::App* audit_export_ = nullptr;
  CLI::App* report_ = nullptr;
  CLI::App* consent_ = nullptr;
  CLI::App* consent_list_ = nullptr;
  std::string config_;
  std::string checkpoints_;  ///< audit verify --checkpoints: another copy of the checkpoint lines
  std::string from_, to_;
  std::string report_config_;
  bool csv_ = false;
  std::string ca_file_;
  std::string school_, subject_file_, given_by_, partner_, purpose_, on_, expires_;
  // Only to refuse them with advice: a key or birth date in argv is visible in ps and the history.
  std::string argv_student_, argv_birth_date_;
};

}  // namespace schakel::cli
