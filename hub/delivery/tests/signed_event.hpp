#pragma once
// One CloudEvent and the Standard Webhooks headers that sign it, for tests that post to a receiver.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/signal.hpp"
#include "delivery/standard_webhooks.hpp"

namespace schakel::delivery::testing {

inline constexpr std::string_view secret = "whsec_c2NoYWtlbC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm";
inline const std::string event =
    R"({"specversion":"1.0","id":"ev-1","type":"nl.schakel.test.event","source":"/t","data":{}})";

inline std::vector<std::pair<std::string, std::string>> signed_headers(const std::string& id, const std::string& body) {
  const auto key = signing_key::parse(secret);
  const std::int64_t ts = now_ms() / 1000;
  return {
      {"webhook-id", id}, {"webhook-timestamp", std::to_string(ts)}, {"webhook-signature", sign(*key, id, ts, body)}};
}

}  // namespace schakel::delivery::testing
