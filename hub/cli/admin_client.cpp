#include "cli/admin_client.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace schakel::cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

template <class Stream>
admin_reply exchange(Stream& stream, const admin_target& t, const std::string& method, const std::string& path,
                     const std::string& body) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), path, 11};
  req.set(bhttp::field::host, t.host);
  req.set(bhttp::field::user_agent, "schakel-cli");
  if (!t.token.empty()) req.set(bhttp::field::authorization, "Bearer " + t.token);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  return {res.result_int(), res.body()};
}

}  // namespace

admin_reply admin_request(const admin_target& t, const std::string& method, const std::string& path,
                          const std::string& body) {
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(t.host, t.port);
    if (!t.tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(std::chrono::seconds(30));
      stream.connect(endpoints);
      return exchange(stream, t, method, path, body);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (t.ca_file.empty())
      ctx.set_default_verify_paths();
    else
      ctx.load_verify_file(t.ca_file);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification(t.host));
    SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str());
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(asio::ssl::stream_base::client);
    return exchange(stream, t, method, path, body);
  } catch (const std::exception& e) {
    throw std::runtime_error(t.host + ":" + t.port + ": " + e.what());
  }
}

}  // namespace schakel::cli

namespace schakel::cli {

namespace {
std::string token_file_option;  // NOLINT: set once by main before any command runs
}

void set_token_file(std::string path) {
  token_file_option = std::move(path);
}

std::string cli_token(const config::hub_config& cfg, std::ostream& err) {
  std::string file = token_file_option;
  if (file.empty())
    if (const char* env = std::getenv("SCHAKEL_TOKEN_FILE")) file = env;
  if (file.empty()) {
    if (!cfg.admin_token.empty()) {
      err << "schakel: warning: using the deprecated admin_token of the configuration; " << config::admin_token_hint
          << "\n";
      return cfg.admin_token;
    }
    throw std::runtime_error(
        "no token: give --token-file PATH or set SCHAKEL_TOKEN_FILE to a file (mode 0600) holding a token of "
        "access.tokens with the role this command needs");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file + ": the token file cannot be read");
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.empty()) throw std::runtime_error(file + ": the token file is empty (the token goes on its first line)");
  return token;
}

admin_target admin_target_from(const config::hub_config& cfg, const std::string& ca_file) {
  admin_target t;
  t.host = cfg.listen.address == "0.0.0.0" ? "127.0.0.1" : cfg.listen.address == "::" ? "::1" : cfg.listen.address;
  std::uint16_t port = cfg.listen.port;
  if (port == 0) {
    // Port 0 in the config: the daemon wrote the port it bound.
    std::ifstream in(std::filesystem::path(cfg.data_dir) / "port");
    in >> port;
    if (port == 0)
      throw std::runtime_error("the config uses port 0 and " + cfg.data_dir +
                               "/port is missing; is the daemon running?");
  }
  t.port = std::to_string(port);
  t.tls = cfg.listen.tls.has_value();
  t.ca_file = ca_file;
  t.token = cli_token(cfg, std::cerr);
  return t;
}

std::optional<admin_target> load_admin_target(const std::string& config_file, const std::string& ca_file,
                                              std::ostream& err) {
  std::optional<config::hub_config> cfg;
  try {
    cfg = config::load_config_file(config_file);
  } catch (const std::exception& e) {
    err << "schakel: cannot load the configuration: " << e.what() << "\n";
    return std::nullopt;
  }
  try {
    return admin_target_from(*cfg, ca_file);
  } catch (const std::exception& e) {
    err << "schakel: " << e.what() << "\n";
    return std::nullopt;
  }
}

std::optional<std::string> read_input_file(const std::string& path, std::ostream& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err << "schakel: " << path << ": cannot be read\n";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

}  // namespace schakel::cli
