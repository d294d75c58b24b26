// Mutual TLS both ways, with the real daemon and a throw-away CA the test makes: sources that
// authenticate with a client certificate mapped to their connector instance (by subject or SAN),
// refused in the handshake when the certificate is foreign, revoked or missing; and a partner that
// requires a client certificate from the hub.
#include <fstream>

#include <gtest/gtest.h>
#include <boost/system/system_error.hpp>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

const std::string other_token = "other-ingest-token-0123456789abcdefghijklmn";

/** The ingest call of the fixture's records, without a token unless one is given. */
http_call ingest(const std::string& instance, const std::string& token = {}) {
  http_call call{
      "POST", "/v1/connectors/" + instance + "/records", absence_records(2), {{"Content-Type", "application/json"}}};
  if (!token.empty()) call.headers.emplace_back("Authorization", "Bearer " + token);
  return call;
}

struct mtls_test : ::testing::Test {
  temp_dir dir{"schakel-mtls"};
  tls_files server = make_test_tls(made(dir / "tls"), "hub");
  test_ca sources{dir / "tls", "sources"};
  // Speaks for "src" by its subject; "other" is named by a SAN DNS name.
  client_files src_cert = sources.issue_client("src-export", "src-export", "School A");
  client_files other_cert =
      sources.issue_client("other-export", "other-export", "School B", "DNS:Other.School.example");
  client_files revoked_cert = sources.issue_client("revoked-export", "src-export", "School A");
  fs::path crl = sources.write_crl("sources-crl.pem", {revoked_cert});

  /** Two generic-json instances, each with a certificate mapping; `mode` is the listener's client_certificates. */
  nlohmann::json config(const std::string& mode) {
    hub_options o;
    o.webhook_url = "http://127.0.0.1:9/webhook";
    o.tls = server;
    auto cfg = hub_config(dir / "data", o);
    cfg["listen"]["tls"]["client_ca_file"] = sources.ca_cert().string();
    cfg["listen"]["tls"]["crl_file"] = crl.string();
    cfg["listen"]["tls"]["client_certificates"] = mode;
    // Spaces after the comma and lower-case types: the subject is compared in canonical RFC 2253 form.
    cfg["connectors"][0]["client_certificate"] = {{"subject", "cn=src-export, O=School A"}};
    auto other = cfg["connectors"][0];
    other["name"] = "other";
    other["token"] = other_token;
    other["client_certificate"] = {{"san_dns", "other.school.example"}};
    cfg["connectors"].push_back(other);
    return cfg;
  }

  http_reply post(std::uint16_t port, const http_call& call, const client_files* cert) {
    return send_with_certificate(port, call, server.ca_cert, cert != nullptr ? cert->cert : fs::path{},
                                 cert != nullptr ? cert->key : fs::path{});
  }
};

TEST_F(mtls_test, a_source_whose_certificate_maps_to_its_instance_ingests_without_a_token) {
  hub_process hub(dir.path());
  hub.start(config("required"));
  const auto by_subject = post(hub.port(), ingest("src"), &src_cert);
  EXPECT_EQ(by_subject.status, 200u) << by_subject.body << hub.log();
  EXPECT_EQ(nlohmann::json::parse(by_subject.body)["accepted"].size(), 2u) << by_subject.body;
  const auto by_san = post(hub.port(), ingest("other"), &other_cert);
  EXPECT_EQ(by_san.status, 200u) << by_san.body << hub.log();
  // The token still works beside the certificate: either authenticates the source.
  EXPECT_EQ(post(hub.port(), ingest("src", ingest_token), &other_cert).status, 200u);
}

TEST_F(mtls_test, a_certificate_mapped_to_one_instance_is_refused_at_another_exactly_like_a_wrong_token) {
  hub_process hub(dir.path());
  hub.start(config("required"));
  const auto elsewhere = post(hub.port(), ingest("other"), &src_cert);
  const auto wrong_token = post(hub.port(), ingest("other", "not-the-token-of-other-0123456789abcdef"), &src_cert);
  const auto unknown = post(hub.port(), ingest("nosuch"), &src_cert);
  ASSERT_EQ(elsewhere.status, 401u) << elsewhere.body;
  ASSERT_EQ(wrong_token.status, 401u) << wrong_token.body;
  ASSERT_EQ(unknown.status, 401u) << unknown.body;
  auto problem = nlohmann::json::parse(elsewhere.body);
  auto same = nlohmann::json::parse(wrong_token.body);
  auto unknown_problem = nlohmann::json::parse(unknown.body);
  EXPECT_EQ(problem, same);
  // Only the path it names differs: an unknown instance cannot be told from a known one.
  problem.erase("instance");
  unknown_problem.erase("instance");
  EXPECT_EQ(problem, unknown_problem);
  EXPECT_EQ(elsewhere.header("www-authenticate"), wrong_token.header("www-authenticate"));
}

TEST_F(mtls_test, a_certificate_from_another_ca_is_refused_in_the_handshake) {
  test_ca stranger(dir / "tls", "stranger");
  // The same subject as src's certificate, signed by a CA the listener does not trust.
  const auto forged = stranger.issue_client("forged-export", "src-export", "School A");
  hub_process hub(dir.path());
  hub.start(config("optional"));
  EXPECT_THROW(post(hub.port(), ingest("src"), &forged), boost::system::system_error);
  EXPECT_THROW(post(hub.port(), ingest("src", ingest_token), &forged), boost::system::system_error);
  EXPECT_EQ(post(hub.port(), ingest("src"), &src_cert).status, 200u) << hub.log();
}

TEST_F(mtls_test, a_revoked_certificate_is_refused_in_the_handshake) {
  hub_process hub(dir.path());
  hub.start(config("required"));
  // The revoked certificate has src's subject and was signed by the trusted CA: only the CRL refuses it.
  EXPECT_THROW(post(hub.port(), ingest("src"), &revoked_cert), boost::system::system_error);
  EXPECT_THROW(post(hub.port(), ingest("src", ingest_token), &revoked_cert), boost::system::system_error);
  EXPECT_EQ(post(hub.port(), ingest("src"), &src_cert).status, 200u) << hub.log();
}

TEST_F(mtls_test, without_a_certificate_a_listener_that_requires_one_refuses_and_an_optional_one_asks_the_token) {
  {
    hub_process hub(dir.path());
    hub.start(config("required"));
    EXPECT_THROW(post(hub.port(), ingest("src", ingest_token), nullptr), boost::system::system_error);
    hub.process().terminate();
  }
  hub_process hub(dir.path());
  hub.start(config("optional"));
  EXPECT_EQ(post(hub.port(), ingest("src", ingest_token), nullptr).status, 200u) << hub.log();
  EXPECT_EQ(post(hub.port(), ingest("src"), nullptr).status, 401u);
  EXPECT_EQ(post(hub.port(), ingest("src"), &src_cert).status, 200u);
}

TEST_F(mtls_test, a_staff_system_posts_observations_with_its_certificate_alone) {
  const auto app_cert =
      sources.issue_client("caretaker-app", "caretaker-app", "School A", "URI:urn:school:caretaker-app");
  auto cfg = config("required");
  // No token at all: the certificate's SAN URI picks the staff system, as a token would.
  cfg["connectors"].push_back(
      {{"name", "caretaker-app"},
       {"plugin", "observations"},
       {"client_certificate", {{"san_uri", "urn:school:caretaker-app"}}},
       {"settings",
        {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}}, {"roles", {"caretaker"}}, {"note_max_length", 0}}}});
  hub_process hub(dir.path());
  hub.start(cfg);
  const nlohmann::json observation = {{"student_key", "S-100001"},
                                      {"category", "long_sleeves_warm_weather"},
                                      {"severity", "attention"},
                                      {"observer_role", "caretaker"},
                                      {"observed_at", "2027-06-15"}};
  const http_call call{"POST", "/v1/observations", observation.dump(), {{"Content-Type", "application/json"}}};
  const auto reply = post(hub.port(), call, &app_cert);
  EXPECT_EQ(reply.status, 200u) << reply.body << hub.log();
  // A source's certificate that speaks for a records instance opens no staff system.
  EXPECT_EQ(post(hub.port(), call, &src_cert).status, 401u);
}

TEST_F(mtls_test, check_config_names_each_certificate_problem) {
  const auto check = [&](const nlohmann::json& cfg, const std::string& name) {
    const fs::path file = dir / (name + ".json");
    std::ofstream(file) << cfg.dump(2);
    return run_schakel(dir.path(), {"check-config", file.string()}, name);
  };
  {
    auto cfg = config("required");
    std::ofstream(dir / "not-a-ca.pem") << "no certificate here\n";
    cfg["listen"]["tls"]["client_ca_file"] = (dir / "not-a-ca.pem").string();
    const auto r = check(cfg, "bad-ca");
    EXPECT_NE(r.exit, 0);
    EXPECT_NE(
        r.output.find("listen.tls.client_ca_file: " + (dir / "not-a-ca.pem").string() + " holds no PEM certificate"),
        std::string::npos)
        << r.output;
  }
  {
    test_ca stranger(dir / "tls", "stranger");
    auto cfg = config("required");
    cfg["listen"]["tls"]["crl_file"] = stranger.write_crl("stranger-crl.pem", {}).string();
    const auto r = check(cfg, "foreign-crl");
    EXPECT_NE(r.exit, 0);
    EXPECT_NE(r.output.find("listen.tls.crl_file: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("is not signed by a certificate in client_ca_file"), std::string::npos) << r.output;
  }
  {
    auto cfg = config("required");
    cfg["listen"]["tls"]["crl_file"] = (dir / "missing-crl.pem").string();
    const auto r = check(cfg, "missing-crl");
    EXPECT_NE(r.exit, 0);
    EXPECT_NE(r.output.find("listen.tls.crl_file: cannot read file " + (dir / "missing-crl.pem").string()),
              std::string::npos)
        << r.output;
  }
  {
    auto cfg = config("required");
    cfg["connectors"][1]["client_certificate"] = {{"subject", "CN=src-export,O=School A"}};
    const auto r = check(cfg, "same-mapping");
    EXPECT_NE(r.exit, 0);
    EXPECT_NE(r.output.find("connectors[1].client_certificate: the same certificate as connectors[0]"),
              std::string::npos)
        << r.output;
  }
  {
    auto cfg = config("required");
    cfg["listen"]["tls"].erase("client_ca_file");
    cfg["listen"]["tls"].erase("crl_file");
    cfg["listen"]["tls"].erase("client_certificates");
    const auto r = check(cfg, "no-client-ca");
    EXPECT_NE(r.exit, 0);
    EXPECT_NE(r.output.find("connectors[0].client_certificate: the listener asks for no client certificate"),
              std::string::npos)
        << r.output;
  }
  {
    auto cfg = config("required");
    cfg["connectors"][0].erase("token");
    cfg["connectors"][0].erase("client_certificate");
    const auto r = check(cfg, "no-credential");
    EXPECT_NE(r.exit, 0);
    EXPECT_NE(r.output.find("connectors[0]: needs a token, a client_certificate, or both"), std::string::npos)
        << r.output;
  }
  // A certificate alone is enough: no token at all.
  auto cfg = config("required");
  cfg["connectors"][0].erase("token");
  const auto r = check(cfg, "certificate-only");
  EXPECT_EQ(r.exit, 0) << r.output;
}

// ---- outbound: a partner that requires a client certificate from the hub ---------------------

struct partner_mtls_test : ::testing::Test {
  temp_dir dir{"schakel-partner-mtls"};
  tls_files partner = make_test_tls(made(dir / "tls"), "partner");
  test_ca partner_trusts{dir / "tls", "hub-identity"};
  client_files hub_cert = partner_trusts.issue_client("hub-client", "schakel-hub", "Regio JGZ hub");

  nlohmann::json config(const fs::path& data_dir, const std::string& url, bool with_certificate) {
    hub_options o;
    o.webhook_url = url;
    o.max_attempts = 2;
    auto cfg = hub_config(data_dir, o);
    auto& webhook = cfg["subscriptions"][0]["delivery"]["webhook"];
    webhook["tls"] = {{"ca_file", partner.ca_cert.string()}};
    if (with_certificate) {
      webhook["tls"]["client_certificate_file"] = hub_cert.cert.string();
      webhook["tls"]["client_key_file"] = hub_cert.key.string();
    }
    return cfg;
  }
};

TEST_F(partner_mtls_test, a_partner_requiring_a_client_certificate_receives_events_only_from_a_hub_presenting_one) {
  receiver_process receiver(made(dir / "receiver"),
                            {"--tls-cert", partner.server_cert.string(), "--tls-key", partner.server_key.string(),
                             "--client-ca", partner_trusts.ca_cert().string()});
  {
    // Without a certificate every attempt is refused in the handshake: retried, then a dead letter.
    hub_process hub(made(dir / "without"));
    hub.start(config(dir / "without" / "data", receiver.url(), false));
    ASSERT_EQ(hub.post_records(absence_records(3)).status, 200u) << hub.log();
    ASSERT_TRUE(wait_until([&] { return log_events(hub.log(), "delivery.dead_lettered").size() >= 3; }, 30s))
        << hub.log();
    EXPECT_EQ(receiver.events().size(), 0u);
    hub.process().terminate();
  }
  hub_process hub(made(dir / "with"));
  hub.start(config(dir / "with" / "data", receiver.url(), true));
  ASSERT_EQ(hub.post_records(absence_records(3, 10)).status, 200u) << hub.log();
  ASSERT_TRUE(wait_until([&] { return receiver.events().size() >= 3; }, 20s)) << hub.log();
  EXPECT_EQ(receiver.distinct_events(), 3u);
  EXPECT_TRUE(log_events(hub.log(), "delivery.dead_lettered").empty()) << hub.log();
}

TEST_F(partner_mtls_test, check_config_refuses_a_client_key_others_can_read_and_a_key_of_another_certificate) {
  const auto check = [&](const nlohmann::json& cfg, const std::string& name) {
    const fs::path file = dir / (name + ".json");
    std::ofstream(file) << cfg.dump(2);
    return run_schakel(dir.path(), {"check-config", file.string()}, name);
  };
  auto cfg = config(dir / "data", "https://localhost:9/webhook", true);
  const auto ok = check(cfg, "ok");
  EXPECT_EQ(ok.exit, 0) << ok.output;

  fs::permissions(hub_cert.key,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  const auto exposed = check(cfg, "exposed");
  EXPECT_NE(exposed.exit, 0);
  EXPECT_NE(exposed.output.find("subscriptions[0].delivery.webhook.tls.client_key_file: "), std::string::npos)
      << exposed.output;
  EXPECT_NE(exposed.output.find("chmod 600 " + hub_cert.key.string()), std::string::npos) << exposed.output;

  const auto another = partner_trusts.issue_client("another", "another");
  cfg["subscriptions"][0]["delivery"]["webhook"]["tls"]["client_key_file"] = another.key.string();
  const auto mismatched = check(cfg, "mismatched");
  EXPECT_NE(mismatched.exit, 0);
  EXPECT_NE(mismatched.output.find("is not the key of the certificate in " + hub_cert.cert.string()), std::string::npos)
      << mismatched.output;
}

}  // namespace
}  // namespace schakel::test
