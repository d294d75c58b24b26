#include "http/forwarded.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <string_view>

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
    const auto slash = c.find('/');
    boost::system::error_code ec;
    const auto a = plain(asio::ip::make_address(c.substr(0, slash), ec));
    if (ec) throw std::invalid_argument(c + ": not an IP address or network");
    net n;
    n.v4 = a.is_v4();
    if (n.v4) {
      const auto b = a.to_v4().to_bytes();
      std::copy(b.begin(), b.end(), n.bytes.begin());
    } else {
      n.bytes = a.to_v6().to_bytes();
    }
    const unsigned max = n.v4 ? 32 : 128;
    n.prefix = max;
    if (slash != std::string::npos) {
      const char* first = c.data() + slash + 1;
      const char* last = c.data() + c.size();
      const auto [ptr, err] = std::from_chars(first, last, n.prefix);
      if (err != std::errc() || ptr != last || first == last || n.prefix > max)
        throw std::invalid_argument(c + ": the prefix length must be 0 to " + std::to_string(max));
    }
    nets_.push_back(n);
  }
}

bool network_list::contains(const asio::ip::address& in) const {
  const auto a = plain(in);
  std::array<unsigned char, 16> bytes{};
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  } else {
    bytes = a.to_v6().to_bytes();
  }
  for (const auto& n : nets_) {
    if (n.v4 != a.is_v4()) continue;
    const unsigned whole = n.prefix / 8, rest = n.prefix % 8;
    if (!std::equal(bytes.begin(), bytes.begin() + whole, n.bytes.begin())) continue;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    if (rest == 0 || (bytes[whole] & mask) == (n.bytes[whole] & mask)) return true;
  }
  return false;
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
