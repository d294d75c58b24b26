// End to end for issue 6's core side (docs/linking.md): a report that names its student only by BSN is
// parked (stored, not delivered, listed) until the school records the link; then it is delivered
// once, with the school's student key. The BSN is never in a log, an answer or a delivered event.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "linking_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;

const std::string bsn = "111222333";  // passes the 11-test
const std::string other_bsn = "123456782";

struct linking_fixture : linking_hub {
  http_reply admin(const std::string& method, const std::string& target, const std::string& body = {}) {
    return send(hub.port(),
                http_call{method,
                          target,
                          body,
                          {{"Authorization", "Bearer " + linking_admin_token}, {"Content-Type", "application/json"}}},
                tls.ca_cert);
  }
};

}  // namespace

TEST_F(linking_fixture, a_report_by_bsn_waits_for_its_link_and_is_then_delivered_once_with_the_school_key) {
  start();
  auto reply = hub.post_records(report_by("R-1", bsn));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  auto body = nlohmann::json::parse(reply.body);
  ASSERT_EQ(body["accepted"].size(), 1u);
  EXPECT_EQ(body["accepted"][0]["parked"], true);
  const std::string parked_id = body["accepted"][0]["id"];

  auto list = admin("GET", "/v1/parked");
  ASSERT_EQ(list.status, 200u) << list.body;
  auto parked = nlohmann::json::parse(list.body)["parked"];
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0]["id"], parked_id);
  EXPECT_EQ(parked[0]["instance"], "src");

  // Durable while it waits: a kill -9 and restart keep it parked.
  hub.process().terminate(SIGKILL);
  start();
  ASSERT_EQ(nlohmann::json::parse(admin("GET", "/v1/parked").body)["parked"].size(), 1u);
  EXPECT_TRUE(partner.events().empty());

  // Bad links are refused by field, never quoting the value.
  auto bad = admin("POST", "/v1/links", R"({"bsn": "111222334", "school": {"brin": "99XX"}, "student_key": "1001"})");
  EXPECT_EQ(bad.status, 422u);
  EXPECT_EQ(bad.body.find("111222334"), std::string::npos);
  EXPECT_EQ(admin("POST", "/v1/links", R"({"bsn": ")" + bsn + R"(", "student_key": "1001"})").status, 422u);
  auto lower =
      admin("POST", "/v1/links", R"({"bsn": ")" + bsn + R"(", "school": {"brin": "99xx"}, "student_key": "1001"})");
  EXPECT_EQ(lower.status, 422u);
  EXPECT_EQ(nlohmann::json::parse(lower.body)["errors"][0]["field"], "/school/brin");
  auto bad_vestiging =
      admin("POST", "/v1/links",
            R"({"bsn": ")" + bsn + R"(", "school": {"brin": "99XX", "vestiging": "0A"}, "student_key": "1001"})");
  EXPECT_EQ(bad_vestiging.status, 422u);
  EXPECT_EQ(nlohmann::json::parse(bad_vestiging.body)["errors"][0]["field"], "/school/vestiging");
  EXPECT_EQ(send(hub.port(), http_call{"POST", "/v1/links", "{}"}, tls.ca_cert).status, 401u);

  // A link for another BSN moves nothing.
  auto other =
      admin("POST", "/v1/links",
            R"({"bsn": ")" + other_bsn + R"(", "school": {"brin": "99XX", "vestiging": "00"}, "student_key": "2002"})");
  ASSERT_EQ(other.status, 201u) << other.body;
  EXPECT_EQ(nlohmann::json::parse(other.body)["unparked"], 0);

  auto linked =
      admin("POST", "/v1/links",
            R"({"bsn": ")" + bsn + R"(", "school": {"brin": "99XX", "vestiging": "00"}, "student_key": "1001"})");
  ASSERT_EQ(linked.status, 201u) << linked.body;
  EXPECT_EQ(nlohmann::json::parse(linked.body)["unparked"], 1);
  ASSERT_TRUE(wait_until([&] { return partner.events().size() == 1; })) << hub.log();
  const auto event = partner.events()[0]["event"];
  EXPECT_EQ(event["data"]["subject"]["student_key"], "1001");
  EXPECT_EQ(event["data"]["subject"]["school"]["brin"], "99XX");
  EXPECT_TRUE(nlohmann::json::parse(admin("GET", "/v1/parked").body)["parked"].empty());

  // Now linked, the next report by that BSN goes straight through.
  reply = hub.post_records(report_by("R-2", bsn));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_FALSE(nlohmann::json::parse(reply.body)["accepted"][0].contains("parked"));
  ASSERT_TRUE(wait_until([&] { return partner.events().size() == 2; })) << hub.log();
  EXPECT_EQ(partner.distinct_events(), 2u);

  // The BSN appears nowhere: not in the log, not in what the partner received, not in the metrics.
  const std::string metrics = metrics_text(hub.port(), tls.ca_cert);
  for (const auto& text : {hub.log(), metrics, partner.events()[0].dump(), partner.events()[1].dump()}) {
    EXPECT_EQ(text.find(bsn), std::string::npos);
    EXPECT_EQ(text.find(other_bsn), std::string::npos);
  }
}

}  // namespace schakel::test
