#pragma once
/** A small synchronous HTTP(S) client the CLI uses to talk to a running daemon's admin API. */
#include <optional>
#include <ostream>
#include <string>

#include "config/config.hpp"

namespace schakel::cli {

struct admin_target {
  std::string host;
  std::string port;
  bool tls = false;
  std::string ca_file;  ///< verifies the daemon's certificate; empty = system CAs
  std::string token;    ///< bearer token (from a file, never an argument)
};

struct admin_reply {
  unsigned status = 0;
  std::string body;
};

/** The file the CLI reads its token from (--token-file); empty: $SCHAKEL_TOKEN_FILE. */
void set_token_file(std::string path);

/**
 * The token the CLI sends: the first line of the --token-file or $SCHAKEL_TOKEN_FILE file; without
 * either, the deprecated admin_token of `cfg` (with a warning on `err`). Throws std::runtime_error
 * saying how to give one when there is none, or the file cannot be read or is empty.
 */
std::string cli_token(const config::hub_config& cfg, std::ostream& err);

/**
 * Where the daemon of `cfg` listens, with the CLI's token (cli_token). For port 0 the port the
 * daemon wrote to data_dir/port; throws std::runtime_error when that is missing.
 */
admin_target admin_target_from(const config::hub_config& cfg, const std::string& ca_file);

/**
 * The admin API of the hub whose configuration is the file `config_file`. On a configuration error
 * (unreadable, invalid, port 0 without a running daemon) says why on `err` and returns nullopt.
 */
std::optional<admin_target> load_admin_target(const std::string& config_file, const std::string& ca_file,
                                              std::ostream& err);

/** The bytes of the file a command imports; when it cannot be opened says so on `err` and returns nullopt. */
std::optional<std::string> read_input_file(const std::string& path, std::ostream& err);

/** Throws std::runtime_error with the address and the transport error. */
admin_reply admin_request(const admin_target& target, const std::string& method, const std::string& path,
                          const std::string& body = {});

}  // namespace schakel::cli
