#pragma once
/**
 * `schakel storage migrate --config FILE` and `schakel storage status --config FILE`: the PostgreSQL
 * engine's schema (docs/storage.md, "PostgreSQL"). migrate applies what the database lacks and prints
 * the version before and after; status prints the version and what this build knows. Both need
 * `storage.engine: postgres`; the SQLite file is migrated when `serve` opens it.
 *
 * Output never holds the password (it is not in the URL, and the URL is printed without its query).
 * Errors are one line on stderr: `FILE: storage.url: …` for the configuration, `schakel: …` else.
 */
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

#include "config/config.hpp"

namespace schakel::cli {

/** `schakel storage migrate` on a loaded configuration; the process exit code. Prints on out/err. */
int storage_migrate(const config::hub_config& cfg, std::ostream& out, std::ostream& err);
/** `schakel storage status`: 0 when the database is at this build's version or behind it, 1 otherwise. */
int storage_status(const config::hub_config& cfg, std::ostream& out, std::ostream& err);

/** The `storage` command group. */
class storage_commands {
 public:
  explicit storage_commands(CLI::App& app);
  bool selected() const;
  /** Runs the chosen subcommand; the exit code (1 on any error). Does not throw. */
  int run();

 private:
  CLI::App* storage_ = nullptr;
  CLI::App* migrate_ = nullptr;
  CLI::App* status_ = nullptr;
  std::string config_;
};

}  // namespace schakel::cli
