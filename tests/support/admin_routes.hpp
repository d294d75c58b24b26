#pragma once
// Every admin route of the hub with the role it needs (docs/access.md has the same table): the unit
// tests of the access decision and the integration tests against the daemon walk the same list.
#include <vector>

namespace schakel::test {

struct admin_route {
  const char* method;
  const char* path;
  const char* role;
};

inline const std::vector<admin_route>& admin_routes() {
  static const std::vector<admin_route> routes{
      {"GET", "/v1/deadletters", "operator"},
      {"POST", "/v1/deadletters/7/replay", "operator"},
      {"GET", "/v1/subscriptions", "operator"},
      {"POST", "/v1/subscriptions/partner/enable", "operator"},
      {"GET", "/v1/processors", "operator"},
      {"POST", "/v1/consents", "privacy_officer"},
      {"POST", "/v1/consents/lookup", "privacy_officer"},
      {"POST", "/v1/alerts/01JDZ3K7Q8M2X4V6N8P0R2T4W6/referral", "privacy_officer"},
      {"POST", "/v1/links", "linker"},
      {"GET", "/v1/parked", "linker"},
      {"POST", "/v1/enrolment", "trends"},
      {"POST", "/v1/trends/release", "trends"},
      {"GET", "/v1/trends", "trends"},
      {"GET", "/v1/trends/plot", "trends"},
      {"GET", "/metrics", "metrics"},
  };
  return routes;
}

}  // namespace schakel::test
