#include "cli/storage_commands.hpp"

#include <iostream>
#include <system_error>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrations.hpp"

namespace schakel::cli {
namespace {

namespace pg = storage::postgres;

pg::connection_settings settings_of(const config::storage_settings& s) {
  pg::connection_settings out;
  out.url = s.url;
  out.password = s.password;
  out.pool_size = s.pool_size;
  return out;
}

/**
 * Connects to the configuration's database and runs `work` on it with the URL to print; the exit
 * code: 1 with one line on `err` when the engine is not postgres, the connection fails or `work`
 * throws, else what `work` returns.
 */
template <typename Work>
int on_database(const config::hub_config& cfg, std::ostream& err, Work work) {
  if (cfg.storage.engine != config::storage_engine::postgres) {
    err << cfg.source_file
        << ": storage.engine: schakel storage migrate|status work on engine postgres; this configuration uses "
           "sqlite, whose file serve migrates when it opens it\n";
    return 1;
  }
  pg::connection db;
  if (auto e = db.open(settings_of(cfg.storage))) {
    err << "schakel: " << e.message << "\n";
    return 1;
  }
  try {
    return work(db, pg::url_for_display(cfg.storage.url));
  } catch (const std::system_error& e) {
    err << "schakel: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int storage_migrate(const config::hub_config& cfg, std::ostream& out, std::ostream& err) {
  return on_database(cfg, err, [&](pg::connection& db, const std::string& where) {
    const auto report = pg::migrate(db, where);
    if (report.from == report.to)
      out << where << ": schema " << report.to << ", up to date\n";
    else
      out << where << ": migrated schema " << report.from << " -> " << report.to << "\n";
    return 0;
  });
}

int storage_status(const config::hub_config& cfg, std::ostream& out, std::ostream& err) {
  return on_database(cfg, err, [&](pg::connection& db, const std::string& where) {
    const int version = pg::schema_version(db, where);
    const int known = pg::known_schema_version();
    out << where << ": schema " << version << " (this build writes " << known << ")";
    if (version < known) out << "; run `schakel storage migrate`";
    out << "\n";
    if (version > known) {
      err << "schakel: " << where << ": schema " << version << " is newer than this build knows (" << known
          << "); upgrade schakel before serving from it\n";
      return 1;
    }
    return 0;
  });
}

storage_commands::storage_commands(CLI::App& app) {
  storage_ = app.add_subcommand("storage", "The PostgreSQL engine's schema: migrate, status");
  storage_->require_subcommand(1);
  migrate_ = storage_->add_subcommand("migrate", "Apply the schema migrations the database lacks; prints from/to");
  migrate_->add_option("--config,-c", config_, "Configuration file with storage.engine: postgres")->required();
  status_ = storage_->add_subcommand("status", "Print the database's schema version and this build's");
  status_->add_option("--config,-c", config_, "Configuration file with storage.engine: postgres")->required();
}

bool storage_commands::selected() const {
  return storage_->parsed();
}

int storage_commands::run() {
  try {
    const auto cfg = config::load_config_file(config_);
    return migrate_->parsed() ? storage_migrate(cfg, std::cout, std::cerr) : storage_status(cfg, std::cout, std::cerr);
  } catch (const std::exception& e) {
    // config_error's text is already "FILE: path: problem", one line per problem.
    std::cerr << e.what() << "\n";
    return 1;
  }
}

}  // namespace schakel::cli
