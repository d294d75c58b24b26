#include "config/config.hpp"

#include <stdlib.h>

#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>

namespace schakel::config {
namespace {

namespace fs = std::filesystem;

const std::string token = "tok_0123456789abcdef0123456789abcdef";     // 36 characters
const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";  // base64 of 24 bytes
const std::string secret_marker = "S3CRET-do-not-print-7d1e";         // must never reach a message

class config_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "schakel-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const auto& [name, old] : saved_env_) {
      if (old) {
        setenv(name.c_str(), old->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void set_env(const std::string& name, const std::string& value) {
    remember(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void unset_env(const std::string& name) {
    remember(name);
    unsetenv(name.c_str());
  }
  void remember(const std::string& name) {
    if (saved_env_.count(name) != 0) return;
    const char* old = std::getenv(name.c_str());
    saved_env_[name] = old ? std::optional<std::string>(old) : std::nullopt;
  }

  std::string write_file(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  // A secret for ${file:…}: only the owner may read it, or the loader refuses it.
  std::string write_secret(const std::string& name, const std::string& content) {
    const std::string p = write_file(name, content);
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    return p;
  }

  // What load_config_text throws for `text`; fails the test when it does not throw.
  static std::string error_of(const std::string& text, const std::string& origin = "test.yaml") {
    try {
      load_config_text(text, origin);
    } catch (const config_error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no config_error for:\n" << text;
    return {};
  }

  fs::path dir_;
  std::map<std::string, std::optional<std::string>> saved_env_;
};

// A complete, valid configuration with `extra` lines appended to the subscription's delivery.
std::string full_yaml() {
  return R"(# Schakel quickstart
listen: { address: 127.0.0.1, port: 8443 }
data_dir: /var/lib/schakel
plugin_dir: /opt/schakel/plugins
admin_token: ${SCHAKEL_ADMIN_TOKEN}
log_level: debug
limits: { max_body_bytes: 1048576, max_header_bytes: 8192, read_timeout: 5s, max_connections: 64, max_outbox_depth: 5000 }
connectors:
  - name: quickstart
    plugin: generic-json
    token: ${SCHAKEL_INGEST_TOKEN}
    settings:
      mapping: { student: "$.leerling", brin: 0012 }
      quoted_number: "42"
      flag: yes
subscriptions:
  - name: jgz-alerts
    partner: GGD Voorbeeldregio JGZ
    filter: { types: ["nl.schakel.attendance.*"], domains: [attendance], min_severity: attention, schools: ["12AB", "12AB01"], instances: [quickstart] }
    fields: [id, type, subject.school, subject.class, content.severity]
    privacy: { identity: identified, purpose: test, legal_basis: public_task, health_ground: health_care }
    delivery:
      webhook: { url: "${SCHAKEL_WEBHOOK_URL}", secret: "${SCHAKEL_WEBHOOK_SECRET}" }
      batch: { max_events: 50, linger: 250ms }
      retry: { max_attempts: 7, max_age: 2h, initial_backoff: 1s, max_backoff: 5m }
      request_timeout: 3000
      lanes: 8
)";
}

class full_config_test : public config_test {
 protected:
  void SetUp() override {
    config_test::SetUp();
    set_env("SCHAKEL_ADMIN_TOKEN", "adm_" + token);
    set_env("SCHAKEL_INGEST_TOKEN", token);
    set_env("SCHAKEL_WEBHOOK_URL", "https://jgz.example.org/hooks/schakel");
    set_env("SCHAKEL_WEBHOOK_SECRET", secret);
  }

  static void expect_full(const hub_config& c) {
    EXPECT_EQ(c.listen.address, "127.0.0.1");
    EXPECT_EQ(c.listen.port, 8443);
    EXPECT_FALSE(c.listen.tls.has_value());
    EXPECT_EQ(c.data_dir, "/var/lib/schakel");
    EXPECT_EQ(c.plugin_dir, "/opt/schakel/plugins");
    EXPECT_EQ(c.admin_token, "adm_" + token);
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.limits.max_body_bytes, 1048576u);
    EXPECT_EQ(c.limits.max_header_bytes, 8192u);
    EXPECT_EQ(c.limits.read_timeout, std::chrono::milliseconds(5000));
    EXPECT_EQ(c.limits.max_connections, 64u);
    EXPECT_EQ(c.limits.max_outbox_depth, 5000);
    ASSERT_EQ(c.connectors.size(), 1u);
    EXPECT_EQ(c.connectors[0].name, "quickstart");
    EXPECT_EQ(c.connectors[0].plugin, "generic-json");
    EXPECT_EQ(c.connectors[0].token, token);
    ASSERT_EQ(c.subscriptions.size(), 1u);
    const auto& s = c.subscriptions[0];
    EXPECT_EQ(s.name, "jgz-alerts");
    EXPECT_EQ(s.partner, "GGD Voorbeeldregio JGZ");
    EXPECT_EQ(s.filter.types, std::vector<std::string>{"nl.schakel.attendance.*"});
    EXPECT_EQ(s.filter.domains, std::vector<std::string>{"attendance"});
    EXPECT_EQ(s.filter.min_severity, severity::attention);
    EXPECT_EQ(s.filter.schools, (std::vector<std::string>{"12AB", "12AB01"}));
    EXPECT_EQ(s.filter.instances, std::vector<std::string>{"quickstart"});
    EXPECT_EQ(s.fields,
              (std::vector<std::string>{"id", "type", "subject.school", "subject.class", "content.severity"}));
    EXPECT_EQ(s.delivery.url, "https://jgz.example.org/hooks/schakel");
    EXPECT_EQ(s.delivery.secret, secret);
    EXPECT_TRUE(s.delivery.batched);
    EXPECT_EQ(s.delivery.batch_max_events, 50u);
    EXPECT_EQ(s.delivery.batch_linger, std::chrono::milliseconds(250));
    EXPECT_EQ(s.delivery.max_attempts, 7u);
    EXPECT_EQ(s.delivery.max_age, std::chrono::seconds(7200));
    EXPECT_EQ(s.delivery.initial_backoff, std::chrono::milliseconds(1000));
    EXPECT_EQ(s.delivery.max_backoff, std::chrono::milliseconds(300000));
    EXPECT_EQ(s.delivery.request_timeout, std::chrono::milliseconds(3000));
    EXPECT_EQ(s.delivery.lanes, 8u);
  }
};

TEST_F(full_config_test, loads_a_complete_yaml_file) {
  const auto path = write_file("quickstart.yaml", full_yaml());
  const hub_config c = load_config_file(path);
  expect_full(c);
  EXPECT_EQ(c.source_file, path);
  // YAML typing: plain 0012 stays text, a quoted number stays text, `yes` is not a boolean.
  const auto& settings = c.connectors[0].settings;
  EXPECT_EQ(settings["mapping"]["brin"], "0012");
  EXPECT_EQ(settings["mapping"]["student"], "$.leerling");
  EXPECT_EQ(settings["quoted_number"], "42");
  EXPECT_EQ(settings["flag"], "yes");
}

TEST_F(full_config_test, loads_the_same_configuration_as_json) {
  const std::string text = R"(
  {
    "listen": {"address": "127.0.0.1", "port": 8443},
    "data_dir": "/var/lib/schakel",
    "plugin_dir": "/opt/schakel/plugins",
    "admin_token": "${SCHAKEL_ADMIN_TOKEN}",
    "log_level": "debug",
    "limits": {"max_body_bytes": 1048576, "max_header_bytes": 8192, "read_timeout": "5s",
               "max_connections": 64, "max_outbox_depth": 5000},
    "connectors": [{"name": "quickstart", "plugin": "generic-json", "token": "${SCHAKEL_INGEST_TOKEN}",
                    "settings": {"mapping": {"brin": "0012"}}}],
    "subscriptions": [{
      "name": "jgz-alerts", "partner": "GGD Voorbeeldregio JGZ",
      "filter": {"types": ["nl.schakel.attendance.*"], "domains": ["attendance"], "min_severity": "attention",
                 "schools": ["12AB", "12AB01"], "instances": ["quickstart"]},
      "fields": ["id", "type", "subject.school", "subject.class", "content.severity"],
      "privacy": {"identity": "identified", "purpose": "test", "legal_basis": "public_task", "health_ground": "health_care"},
      "delivery": {
        "webhook": {"url": "${SCHAKEL_WEBHOOK_URL}", "secret": "${SCHAKEL_WEBHOOK_SECRET}"},
        "batch": {"max_events": 50, "linger": "250ms"},
        "retry": {"max_attempts": 7, "max_age": "2h", "initial_backoff": "1s", "max_backoff": "5m"},
        "request_timeout": 3000, "lanes": 8
      }
    }]
  })";
  const hub_config c = load_config_text(text, "quickstart.json");
  expect_full(c);
  EXPECT_EQ(c.source_file, "quickstart.json");
  EXPECT_EQ(c.connectors[0].settings["mapping"]["brin"], "0012");
}

TEST_F(config_test, applies_defaults_to_a_minimal_file) {
  const hub_config c = load_config_text("data_dir: /tmp/x\n", "min.yaml");
  const hub_config defaults{};
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.listen.address, "127.0.0.1");
  EXPECT_EQ(c.listen.port, 8080);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.limits.max_body_bytes, defaults.limits.max_body_bytes);
  EXPECT_EQ(c.limits.read_timeout, std::chrono::milliseconds(15000));
  EXPECT_TRUE(c.connectors.empty());
  EXPECT_TRUE(c.subscriptions.empty());
  EXPECT_TRUE(c.plugin_dir.empty());
}

TEST_F(config_test, defaults_a_subscription_delivery) {
  set_env("SCHAKEL_TEST_SECRET", secret);
  const hub_config c = load_config_text(R"(data_dir: /d
subscriptions:
  - name: s1
    partner: P
    fields: [type]
    privacy: { identity: identified, purpose: test, legal_basis: public_task, health_ground: health_care }
    delivery: { webhook: { url: "http://localhost:9000/hook", secret: "${SCHAKEL_TEST_SECRET}" } }
)",
                                        "t.yaml");
  const auto& d = c.subscriptions.at(0).delivery;
  EXPECT_FALSE(d.batched);
  EXPECT_EQ(d.max_attempts, 12u);
  EXPECT_EQ(d.max_age, std::chrono::hours(24));
  EXPECT_EQ(d.initial_backoff, std::chrono::milliseconds(500));
  EXPECT_EQ(d.max_backoff, std::chrono::minutes(5));
  EXPECT_EQ(d.request_timeout, std::chrono::seconds(10));
  EXPECT_EQ(d.lanes, 4u);
  EXPECT_FALSE(c.subscriptions[0].filter.min_severity.has_value());
}

TEST_F(config_test, requires_data_dir) {
  EXPECT_EQ(error_of("log_level: info\n"), "test.yaml: missing required key \"data_dir\"");
  EXPECT_EQ(error_of("data_dir: \"\"\n"), "test.yaml: data_dir: must not be empty");
}

TEST_F(config_test, reports_yaml_syntax_errors_with_line_and_column) {
  const std::string text = "data_dir: /d\nconnectors:\n  - name: a\n   plugin: [x\n";
  const std::string e = error_of(text, "quickstart.yaml");
  EXPECT_EQ(e.rfind("quickstart.yaml:4:", 0), 0u) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

TEST_F(config_test, reports_json_syntax_errors_with_line_and_column_but_no_content) {
  const std::string e = error_of("{\n  \"data_dir\": \"/d\",\n  \"admin_token\": \"" + secret_marker + "\n}", "c.json");
  EXPECT_EQ(e.rfind("c.json:", 0), 0u) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
  EXPECT_EQ(e.find(secret_marker), std::string::npos) << e;
  EXPECT_EQ(error_of("{\"data_dir\": \"/d\",\n \"data_dir\": \"/e\"}", "c.json"), "c.json: duplicate key \"data_dir\"");
}

TEST_F(config_test, refuses_duplicate_yaml_keys) {
  EXPECT_EQ(error_of("data_dir: /d\nlog_level: info\nlog_level: debug\n"),
            "test.yaml:3:1: duplicate key \"log_level\"");
}

TEST_F(config_test, refuses_empty_and_multi_document_files) {
  EXPECT_EQ(error_of(""), "test.yaml: the configuration is empty");
  EXPECT_EQ(error_of("data_dir: /a\n---\ndata_dir: /b\n"), "test.yaml: holds more than one YAML document");
  EXPECT_EQ(error_of("- a\n- b\n"), "test.yaml: must be an object");
}

TEST_F(config_test, reports_unknown_keys_at_their_parent) {
  set_env("SCHAKEL_TEST_SECRET", secret);
  EXPECT_EQ(error_of("data_dir: /d\nlisten: { adress: 0.0.0.0 }\n"), "test.yaml: listen: unknown key \"adress\"");
  EXPECT_EQ(error_of(R"(data_dir: /d
subscriptions:
  - name: s1
    partner: P
    fiels: [type]
    fields: [type]
    privacy: { identity: identified, purpose: test, legal_basis: public_task, health_ground: health_care }
    delivery: { webhook: { url: "https://x.example", secret: "${SCHAKEL_TEST_SECRET}" } }
)"),
            "test.yaml: subscriptions[0]: unknown key \"fiels\"");
}

TEST_F(config_test, reports_type_and_enum_errors_with_their_path) {
  EXPECT_EQ(error_of("data_dir: /d\nlisten: { port: \"8080\" }\n"), "test.yaml: listen.port: must be an integer");
  EXPECT_EQ(error_of("data_dir: /d\nlisten: { port: 70000 }\n"), "test.yaml: listen.port: must be at most 65535");
  EXPECT_EQ(error_of("data_dir: /d\nlog_level: loud\n"),
            "test.yaml: log_level: must be one of debug, info, warn, error");
  EXPECT_EQ(
      error_of("data_dir: /d\nconnectors:\n  - { name: Quick Start, plugin: generic-json, token: " + token + " }\n"),
      "test.yaml: connectors[0].name: must be 1 to 63 characters: lowercase letters, digits, _ or -, starting "
      "with a letter or digit");
  EXPECT_EQ(error_of("data_dir: /d\nconnectors:\n  - { name: a, plugin: generic-json, token: " + token +
                     ", settings: [1] }\n"),
            "test.yaml: connectors[0].settings: must be an object");
}

std::string subscription_yaml(const std::string& filter, const std::string& fields, const std::string& webhook,
                              const std::string& delivery_extra = "") {
  return "data_dir: /d\nconnectors:\n  - { name: quickstart, plugin: generic-json, token: " + token +
         " }\nsubscriptions:\n  - name: s1\n    partner: P\n" + (filter.empty() ? "" : "    filter: " + filter + "\n") +
         "    fields: " + fields +
         "\n    privacy: { identity: identified, purpose: test, legal_basis: public_task, health_ground: health_care "
         "}\n    delivery:\n      webhook: " +
         webhook + "\n" + delivery_extra;
}

std::string hook(const std::string& url, const std::string& sec = secret) {
  return "{ url: \"" + url + "\", secret: \"" + sec + "\" }";
}

TEST_F(config_test, checks_fields_against_the_signal_schema) {
  EXPECT_NO_THROW(load_config_text(
      subscription_yaml("", "[id, subject.school.brin, content.evidence, governance.data_category, derived_from]",
                        hook("https://x.example")),
      "t.yaml"));
  EXPECT_EQ(error_of(subscription_yaml("", "[id, subject.bsn]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].fields[1]: unknown signal field \"subject.bsn\" (see docs/signal-schema.md)");
  EXPECT_EQ(error_of(subscription_yaml("", "[]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].fields: must not be empty");
  EXPECT_EQ(error_of(subscription_yaml("", "[id, id]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].fields[1]: field \"id\" listed twice");
}

TEST_F(config_test, checks_the_filter) {
  EXPECT_EQ(error_of(subscription_yaml("{ min_severity: critical }", "[id]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].filter.min_severity: must be one of info, attention, concern, urgent");
  EXPECT_EQ(error_of(subscription_yaml("{ instances: [quickstart, other] }", "[id]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].filter.instances[1]: no connector or processor instance named \"other\"");
  EXPECT_EQ(error_of(subscription_yaml("{ domains: [money] }", "[id]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].filter.domains[0]: must be one of emotional, behavioural, social, "
            "wellbeing, attendance, health");
  EXPECT_EQ(error_of(subscription_yaml("{ schools: [12ab] }", "[id]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].filter.schools[0]: must be a BRIN (4 characters, digits or capital "
            "letters), optionally followed by a 2-digit vestiging");
  EXPECT_EQ(error_of(subscription_yaml("{ types: [\"nl.*.x\"] }", "[id]", hook("https://x.example"))),
            "test.yaml: subscriptions[0].filter.types[0]: must be a signal type, or a prefix ending in .*");
}

TEST_F(config_test, checks_webhook_urls) {
  for (const char* ok : {"https://partner.example/hook", "http://127.0.0.1:9000/hook", "http://127.8.9.10/",
                         "http://localhost:8081", "http://[::1]:9000/x", "HTTPS://Partner.Example"}) {
    // Loopback is a refused destination unless allowlisted (destinations_test.cpp).
    const std::string allowing_loopback =
        "{ url: \"" + std::string(ok) + "\", secret: \"" + secret + "\", allow_destinations: [127.0.0.0/8, \"::1\"] }";
    EXPECT_NO_THROW(load_config_text(subscription_yaml("", "[id]", allowing_loopback), "t.yaml")) << ok;
  }
  const std::string at = "test.yaml: subscriptions[0].delivery.webhook.url: ";
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("http://partner.example/hook?token=" + secret_marker))),
            at + "plain http is allowed only to a loopback host; use https");
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("http://10.0.0.1/hook"))),
            at + "plain http is allowed only to a loopback host; use https");
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("ftp://127.0.0.1/hook"))),
            at + "must use https (or http to a loopback host)");
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("partner.example/hook"))),
            at + "is not an absolute http(s) URL with a host");
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example:99999/"))),
            at + "is not an absolute http(s) URL with a host");
}

TEST_F(config_test, checks_webhook_secrets_without_printing_them) {
  const std::string base = "test.yaml: subscriptions[0].delivery.webhook.secret: ";
  const std::string bad_whsec = base + "starts with \"whsec_\" but is not followed by the base64 of at least 24 bytes";
  const std::string short_raw =
      base + "must be at least 24 bytes, or \"whsec_\" followed by the base64 of at least 24 bytes";
  const std::string short_marker = secret_marker.substr(0, 20);
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example", short_marker))), short_raw);
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example", "whsec_c2hvcnQ="))),
            bad_whsec);  // 5 bytes
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example", "whsec_" + secret_marker + "!!"))),
            bad_whsec);
  EXPECT_NO_THROW(load_config_text(
      subscription_yaml("", "[id]", hook("https://x.example", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAQ==")), "t"));
  // Any other value of 24+ bytes is a usable key as it is.
  EXPECT_NO_THROW(load_config_text(subscription_yaml("", "[id]", hook("https://x.example", secret_marker)), "t"));
}

TEST_F(config_test, requires_long_tokens_without_printing_them) {
  const std::string short_marker = secret_marker.substr(0, 23);
  set_env("SCHAKEL_INGEST_TOKEN", short_marker);
  const std::string e =
      error_of("data_dir: /d\nadmin_token: " + short_marker +
               "\nconnectors:\n  - { name: a, plugin: generic-json, token: \"${SCHAKEL_INGEST_TOKEN}\" }\n");
  EXPECT_EQ(e,
            "test.yaml: admin_token: must be at least 24 characters\n"
            "test.yaml: connectors[0].token: must be at least 24 characters");
  EXPECT_EQ(e.find(short_marker), std::string::npos);
}

TEST_F(config_test, refuses_duplicate_names) {
  EXPECT_EQ(error_of("data_dir: /d\nconnectors:\n  - { name: a, plugin: p, token: " + token +
                     " }\n  - { name: a, plugin: q, token: " + token + "x }\n"),
            "test.yaml: connectors[1].name: duplicate connector name \"a\"");
  // One token per source: a shared one would let one system write as another (and is never quoted).
  const std::string shared = error_of("data_dir: /d\nconnectors:\n  - { name: a, plugin: p, token: " + token +
                                      " }\n  - { name: b, plugin: observations, token: " + token + " }\n");
  EXPECT_EQ(shared, "test.yaml: connectors[1].token: the same token as connectors[0]; each instance needs its own");
  const std::string sub =
      "  - name: s\n    partner: P\n    fields: [id]\n    privacy: { identity: identified, purpose: test, legal_basis: "
      "public_task, health_ground: health_care }\n    delivery: { webhook: " +
      hook("https://x.example") + " }\n";
  EXPECT_EQ(error_of("data_dir: /d\nsubscriptions:\n" + sub + sub),
            "test.yaml: subscriptions[1].name: duplicate subscription name \"s\"");
}

TEST_F(config_test, substitutes_environment_variables) {
  set_env("SCHAKEL_DATA_DIR", "/srv/schakel");
  set_env("SCHAKEL_LISTEN_PORT", "9443");
  unset_env("SCHAKEL_UNSET_FOR_TEST");
  set_env("SCHAKEL_EMPTY_FOR_TEST", "");
  const hub_config c = load_config_text(
      "data_dir: ${SCHAKEL_DATA_DIR}/data\n"
      "listen:\n  port: ${SCHAKEL_LISTEN_PORT}\n"                  // plain: in block style braces need no quotes
      "limits: { max_connections: \"${SCHAKEL_LISTEN_PORT}\" }\n"  // flow style: quoted, typed by the schema
      "plugin_dir: ${SCHAKEL_UNSET_FOR_TEST:-/opt/default}\n"
      "log_level: \"${SCHAKEL_EMPTY_FOR_TEST:-warn}\"\n"
      "connectors:\n  - { name: a, plugin: p, token: " +
          token + ", settings: { template: \"$${student} costs $$5\" } }\n",
      "t.yaml");
  EXPECT_EQ(c.data_dir, "/srv/schakel/data");
  EXPECT_EQ(c.listen.port, 9443);
  EXPECT_EQ(c.limits.max_connections, 9443u);
  EXPECT_EQ(c.plugin_dir, "/opt/default");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.connectors.at(0).settings["template"], "${student} costs $$5");
}

TEST_F(config_test, substituted_numbers_are_typed_only_where_the_schema_wants_a_number) {
  set_env("SCHAKEL_TEST_PORT", "8081");
  const hub_config c = load_config_text(R"({"data_dir": "/d", "listen": {"port": "${SCHAKEL_TEST_PORT}"},
      "connectors": [{"name": "a", "plugin": "p", "token": ")" +
                                            token + R"(",
                      "settings": {"n": "${SCHAKEL_TEST_PORT}"}}]})",
                                        "t.json");
  EXPECT_EQ(c.listen.port, 8081);
  EXPECT_EQ(c.connectors.at(0).settings["n"], "8081");  // free-form: stays text
}

TEST_F(config_test, reports_every_missing_variable_by_path) {
  unset_env("SCHAKEL_INGEST_TOKEN");
  unset_env("SCHAKEL_OTHER_FOR_TEST");
  EXPECT_EQ(error_of("data_dir: ${SCHAKEL_OTHER_FOR_TEST}\nconnectors:\n"
                     "  - { name: a, plugin: p, token: \"${SCHAKEL_INGEST_TOKEN}\" }\n"),
            "test.yaml: connectors[0].token: environment variable SCHAKEL_INGEST_TOKEN is not set\n"
            "test.yaml: data_dir: environment variable SCHAKEL_OTHER_FOR_TEST is not set");
  EXPECT_EQ(error_of("data_dir: \"${SCHAKEL_OTHER_FOR_TEST\"\n"), "test.yaml: data_dir: unterminated ${ reference");
  EXPECT_EQ(error_of("data_dir: \"${not a name}\"\n"),
            "test.yaml: data_dir: malformed ${…} reference (expected ${NAME}, ${NAME:-default} or ${file:/path})");
}

TEST_F(config_test, substitutes_file_contents) {
  const std::string token_file = write_secret("ingest.token", token + "\n");
  const hub_config c = load_config_text(
      "data_dir: /d\nconnectors:\n  - { name: a, plugin: p, token: \"${file:" + token_file + "}\" }\n", "t.yaml");
  EXPECT_EQ(c.connectors.at(0).token, token);

  const std::string missing = (dir_ / "missing.token").string();
  EXPECT_EQ(error_of("data_dir: /d\nconnectors:\n  - { name: a, plugin: p, token: \"${file:" + missing + "}\" }\n"),
            "test.yaml: connectors[0].token: cannot read file " + missing +
                " named by ${file:…} (No such file or directory)");
}

TEST_F(config_test, never_prints_secret_values) {
  // Shorter than the 24-byte floor, so every secret below is refused and its message checked.
  const std::string marker = secret_marker.substr(0, 20);
  set_env("SCHAKEL_INGEST_TOKEN", marker);
  set_env("SCHAKEL_WEBHOOK_SECRET", marker);
  set_env("SCHAKEL_WEBHOOK_URL", "http://partner.example/?key=" + secret_marker);
  const std::string secret_file = write_secret("secret", "whsec_" + secret_marker + "\n");
  const std::string e = error_of(
      "data_dir: /d\nadmin_token: " + marker +
      "\nconnectors:\n"
      "  - { name: a, plugin: p, token: \"${SCHAKEL_INGEST_TOKEN}\" }\n"
      "subscriptions:\n"
      "  - name: s\n    partner: P\n    fields: [id]\n"
      "    privacy: { identity: identified, purpose: test, legal_basis: public_task, health_ground: health_care }\n"
      "    delivery: { webhook: { url: \"${SCHAKEL_WEBHOOK_URL}\", secret: \"${file:" +
      secret_file +
      "}\" } }\n"
      "  - name: t\n    partner: P\n    fields: [id]\n"
      "    privacy: { identity: identified, purpose: test, legal_basis: public_task, health_ground: health_care }\n"
      "    delivery: { webhook: { url: \"https://x.example\", secret: \"${SCHAKEL_WEBHOOK_SECRET}\" } }\n");
  EXPECT_NE(e.find("admin_token"), std::string::npos) << e;
  EXPECT_NE(e.find("connectors[0].token"), std::string::npos) << e;
  EXPECT_NE(e.find("subscriptions[0].delivery.webhook.url"), std::string::npos) << e;
  EXPECT_NE(e.find("subscriptions[0].delivery.webhook.secret"), std::string::npos) << e;
  EXPECT_NE(e.find("subscriptions[1].delivery.webhook.secret"), std::string::npos) << e;
  EXPECT_EQ(e.find(secret_marker), std::string::npos) << e;
  EXPECT_EQ(e.find(marker), std::string::npos) << e;
  // A secret in a place where a schema error is raised is not printed either.
  const std::string e2 =
      error_of("data_dir: /d\nlog_level: " + secret_marker + "\nlisten: { port: " + secret_marker + " }\n");
  EXPECT_EQ(e2.find(secret_marker), std::string::npos) << e2;
}

TEST_F(config_test, parses_durations) {
  const auto linger = [&](const std::string& value) {
    return load_config_text(
               subscription_yaml("", "[id]", hook("https://x.example"), "      batch: { linger: " + value + " }\n"),
               "t.yaml")
        .subscriptions.at(0)
        .delivery.batch_linger;
  };
  EXPECT_EQ(linger("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(linger("10s"), std::chrono::seconds(10));
  EXPECT_EQ(linger("5m"), std::chrono::minutes(5));
  EXPECT_EQ(linger("24h"), std::chrono::hours(24));
  EXPECT_EQ(linger("250"), std::chrono::milliseconds(250));
  EXPECT_EQ(linger("0"), std::chrono::milliseconds(0));
  const std::string at = "test.yaml: subscriptions[0].delivery.batch.linger: ";
  const std::string hint = "must be a duration like 500ms, 10s, 5m or 24h, or an integer number of milliseconds";
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example"), "      batch: { linger: 10 sec }\n")),
            at + hint);
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example"), "      batch: { linger: 1.5s }\n")),
            at + hint);
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example"), "      batch: { linger: -5 }\n")),
            at + "must be at least 0");
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example"), "      request_timeout: 0s\n")),
            "test.yaml: subscriptions[0].delivery.request_timeout: must be greater than 0");
  EXPECT_EQ(error_of(subscription_yaml("", "[id]", hook("https://x.example"),
                                       "      retry: { initial_backoff: 10m, max_backoff: 1m }\n")),
            "test.yaml: subscriptions[0].delivery.retry.initial_backoff: must not exceed max_backoff");
  // max_age is whole seconds, rounded up.
  EXPECT_EQ(
      load_config_text(subscription_yaml("", "[id]", hook("https://x.example"), "      retry: { max_age: 1500ms }\n"),
                       "t.yaml")
          .subscriptions.at(0)
          .delivery.max_age,
      std::chrono::seconds(2));
}

TEST_F(config_test, requires_tls_off_loopback_and_readable_tls_files) {
  EXPECT_EQ(error_of("data_dir: /d\nlisten: { address: 0.0.0.0 }\n"),
            "test.yaml: listen.address: listening on a non-loopback address requires listen.tls");
  for (const char* loopback : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
    EXPECT_NO_THROW(load_config_text("data_dir: /d\nlisten: { address: \"" + std::string(loopback) + "\" }\n", "t"))
        << loopback;
  }
  const std::string cert = write_file("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  const std::string key = write_file("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  const hub_config c =
      load_config_text("data_dir: /d\nlisten: { address: 0.0.0.0, port: 443, tls: { cert_file: " + cert +
                           ", key_file: " + key + " } }\n",
                       "t");
  ASSERT_TRUE(c.listen.tls.has_value());
  EXPECT_EQ(c.listen.tls->cert_file, cert);
  EXPECT_EQ(c.listen.tls->key_file, key);
  EXPECT_TRUE(c.listen.tls->client_ca_file.empty());
  const std::string missing = (dir_ / "nope.pem").string();
  EXPECT_EQ(error_of("data_dir: /d\nlisten: { address: 0.0.0.0, tls: { cert_file: " + cert + ", key_file: " + key +
                     ", client_ca_file: " + missing + " } }\n"),
            "test.yaml: listen.tls.client_ca_file: cannot read file " + missing + " (No such file or directory)");
  EXPECT_EQ(error_of("data_dir: /d\nlisten: { address: 0.0.0.0, tls: { cert_file: " + dir_.string() +
                     ", key_file: " + key + " } }\n"),
            "test.yaml: listen.tls.cert_file: cannot read file " + dir_.string() + " (is a directory)");
  EXPECT_EQ(error_of("data_dir: /d\nlisten: { tls: { cert_file: " + cert + " } }\n"),
            "test.yaml: listen.tls: missing required key \"key_file\"");
}

TEST_F(config_test, reports_every_problem_at_once) {
  const std::string e = error_of("data_dir: /d\nlog_level: loud\nlisten: { port: -1, extra: 1 }\n");
  EXPECT_NE(e.find("test.yaml: log_level: must be one of"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: listen.port: must be at least 0"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: listen: unknown key \"extra\""), std::string::npos) << e;
}

TEST_F(config_test, survives_alias_bombs_and_deep_nesting) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'k'; ++c) {
    const char prev = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  EXPECT_NE(error_of(bomb).find("too many nodes"), std::string::npos);
  EXPECT_NE(error_of(std::string(500, '[') + std::string(500, ']')).find("test.yaml"), std::string::npos);
  EXPECT_NE(error_of("{\"data_dir\": " + std::string(500, '[') + std::string(500, ']') + "}").find("nested deeper"),
            std::string::npos);
}

// Found by fuzzing: nlohmann throws out_of_range (not parse_error) for a huge number, and
// yaml-cpp 0.7's LoadAll never returns on some inputs with control characters.
TEST_F(config_test, regression_fuzz_inputs_are_refused_cleanly) {
  EXPECT_EQ(error_of("{\"data_dir\": 330e0000000000000000522757}", "c.json"),
            "c.json: invalid JSON (number out of range)");
  static const char garbage[] = ", \"adm\xc4in_fieldl\xff\xff\xff\x0cisten: y ad\x10\x10\0\0dress";
  EXPECT_EQ(error_of(std::string(garbage, sizeof garbage - 1)), "test.yaml:1:20: invalid YAML: control character");
}

TEST_F(config_test, reports_an_unreadable_file) {
  const std::string missing = (dir_ / "none.yaml").string();
  try {
    load_config_file(missing);
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot read configuration file (No such file or directory)");
  }
}

}  // namespace
}  // namespace schakel::config
