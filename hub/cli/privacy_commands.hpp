#pragma once
/**
 * The privacy officer's and administrator's commands: `schakel audit verify|export`,
 * `schakel privacy report`, `schakel consent record|withdraw|object|lift-objection|list`.
 */
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace schakel::cli {

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
  std::string from_, to_;
  std::string report_config_;
  bool csv_ = false;
  std::string ca_file_;
  std::string school_, student_, birth_date_, given_by_, partner_, purpose_, on_, expires_;
};

}  // namespace schakel::cli
