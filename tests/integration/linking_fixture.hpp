#pragma once
/**
 * The daemon both linking suites drive (docs/linking.md): TLS, the generic-json instance `src` whose
 * student key is declared a BSN link key, and one partner receiving what gets linked.
 */
#include <string>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {

inline const std::string linking_admin_token = "test-admin-token-0123456789abcdefghijkl";

/** One absence record whose student is named by `who` (a BSN in these tests). */
inline std::string report_by(const std::string& id, const std::string& who) {
  return nlohmann::json::array(
             {{{"id", id}, {"leerling", who}, {"brin", "12AB"}, {"klas", "2B"}, {"uren", 2}, {"ernst", "hoog"}}})
      .dump();
}

struct linking_hub : ::testing::Test {
  temp_dir dir{"schakel-linking-it"};
  tls_files tls = make_test_tls(made(dir / "tls"), "hub");
  receiver_process partner{made(dir / "partner"), {}};
  hub_process hub{dir.path() / "hub"};

  void start() {
    hub_options o;
    o.webhook_url = partner.url();
    o.tls = tls;
    o.fields = {"type", "subject.student_key", "subject.school", "source.record_id"};
    auto cfg = hub_config(hub.data_dir(), o);
    cfg["admin_token"] = linking_admin_token;
    cfg["connectors"][0]["bsn"] = {{"keys", {{"subject.student_key", "link"}}}};
    hub.start(cfg);
  }
};

}  // namespace schakel::test
