#include "hub_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace schakel::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string http_reply::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

namespace {

bhttp::request<bhttp::string_body> make_request(const http_call& call) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), call.target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [k, v] : call.headers) req.set(k, v);
  req.body() = call.body;
  req.prepare_payload();
  return req;
}

http_reply to_reply(bhttp::response<bhttp::string_body>& res) {
  http_reply r;
  r.status = res.result_int();
  r.body = res.body();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  return r;
}

template <class Stream>
http_reply exchange(Stream& stream, const http_call& call) {
  auto req = make_request(call);
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::read(stream, buffer, parser);
  return to_reply(parser.get());
}

}  // namespace

http_reply send(std::uint16_t port, const http_call& call, const std::filesystem::path& ca_file) {
  asio::io_context ioc;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  if (ca_file.empty()) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(ep);
    return exchange(stream, call);
  }
  return send_with_certificate(port, call, ca_file, {}, {});
}

http_reply send_with_certificate(std::uint16_t port, const http_call& call, const std::filesystem::path& ca_file,
                                 const std::filesystem::path& cert, const std::filesystem::path& key) {
  asio::io_context ioc;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(ca_file.string());
  if (!cert.empty()) {
    ctx.use_certificate_chain_file(cert.string());
    ctx.use_private_key_file(key.string(), asio::ssl::context::pem);
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  beast::get_lowest_layer(stream).connect(ep);
  stream.handshake(asio::ssl::stream_base::client);
  return exchange(stream, call);
}

std::vector<http_reply> send_keep_alive(std::uint16_t port, const std::vector<http_call>& calls) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(60));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::vector<http_reply> out;
  for (const auto& c : calls) out.push_back(exchange(stream, c));
  return out;
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms, bool keep_writing_slowly) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  boost::system::error_code ec;
  asio::write(stream, asio::buffer(bytes), ec);
  (void)keep_writing_slowly;
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

}  // namespace schakel::test
