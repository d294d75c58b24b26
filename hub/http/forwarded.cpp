#include "http/forwarded.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "common/ip_address_asio.hpp"
#include "http/server.hpp"

namespace schakel::http {
namespace asio = boost::asio;

namespace {

/** v4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports) as the IPv4 address it is. */
asio::ip::address plain(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char by) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(by, start);
    out.push_back(trim(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

/** An address as a hop names it: 192.0.2.1, 192.0.2.1:80, [2001:db8::1], "[2001:db8::1]:443", 2001:db8::1. */
std::optional<asio::ip::address> hop_address(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    s = s.substr(1, close - 1);
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    s = s.substr(0, s.find(':'));
  }
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return plain(a);
}

/** The hops a proxy chain names, client first: Forwarded's for= values, else X-Forwarded-For. */
std::vector<std::string_view> hops_of(const request& req) {
  std::vector<std::string_view> out;
  if (const auto& fwd = req.header("forwarded"); !fwd.empty()) {
    for (auto element : split(fwd, ',')) {
      std::string_view value;  // an element without for= names no hop we can use: the walk stops there
      for (auto pair : split(element, ';')) {
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        std::string key(trim(pair.substr(0, eq)));
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
        if (key == "for") value = trim(pair.substr(eq + 1));
      }
      out.push_back(value);
    }
    return out;
  }
  if (const auto& xff = req.header("x-forwarded-for"); !xff.empty()) return split(xff, ',');
  return out;
}

}  // namespace

network_list::network_list(const std::vector<std::string>& cidrs) {
  for (const auto& c : cidrs) {
    std::string why;
    auto block = net::parse_cidr(c, &why);
    if (!block) throw std::invalid_argument(c + ": " + why);
    nets_.push_back(*block);
  }
}

bool network_list::contains(const asio::ip::address& in) const {
  const auto a = net::from_asio(plain(in));
  return std::any_of(nets_.begin(), nets_.end(), [&](const net::cidr& n) { return net::contains(n, a); });
}

asio::ip::address believed_client(const asio::ip::address& peer, const request& req,
                                  const network_list& trusted_proxies) {
  auto current = plain(peer);
  if (trusted_proxies.empty() || !trusted_proxies.contains(current)) return current;
  const auto hops = hops_of(req);
  // From the nearest hop outwards: each trusted proxy vouches for the hop to its left.
  for (auto it = hops.rbegin(); it != hops.rend() && trusted_proxies.contains(current); ++it) {
    const auto hop = hop_address(*it);
    if (!hop) break;
    current = *hop;
  }
  return current;
}

}  // namespace schakel::http
