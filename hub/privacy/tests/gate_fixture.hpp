#pragma once
/** What the gate's tests share: a row-level signal, subscriptions, and a gate over private key files. */
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "privacy/gate.hpp"

namespace schakel::privacy::gate_testing {

namespace fs = std::filesystem;
using json = nlohmann::json;

inline constexpr std::int64_t day_2026_11_28 = 1795867200000;  // 2026-11-28T12:00:00Z
inline constexpr std::int64_t one_day = 24 * 3600 * 1000;

inline json row_signal(const std::string& key = "S-000123", const std::string& category = "ordinary") {
  json s = json::parse(R"({
    "id": "01JDZ3K7Q8M2X4V6N8P0R2T4W6", "schema_version": "1",
    "type": "nl.schakel.attendance.absence.recorded",
    "source": {"connector": "generic-json", "instance": "src", "record_id": "A-1"},
    "observed_at": "2026-11-23T08:30:00Z", "received_at": "2026-11-28T10:00:01.123Z",
    "subject": {"school": {"brin": "12AB", "vestiging": "01"}, "class": "2B"},
    "content": {"domain": "attendance", "indicator": "absence_hours", "value": 2, "severity": "attention"},
    "governance": {"data_category": "ordinary"},
    "derived_from": ["01JDZ3K7Q8M2X4V6N8P0R2T4W5"]
  })");
  if (!key.empty()) s["subject"]["student_key"] = key;
  s["governance"]["data_category"] = category;
  return s;
}

inline config::subscription sub(std::string name, std::string identity = "identified") {
  config::subscription s;
  s.name = std::move(name);
  s.partner = "partner of " + s.name;
  s.fields = {"id", "type", "subject.student_key", "subject.class", "content.severity", "derived_from"};
  s.privacy.identity = std::move(identity);
  s.privacy.purpose = "test purpose";
  s.privacy.legal_basis = "public_task";
  return s;
}

/** Key files in a private folder, as the hub demands them (0600). */
class gate_test : public ::testing::Test {
 protected:
  gate_test() : dir_(fs::temp_directory_path() / ("schakel-gate-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~gate_test() override { fs::remove_all(dir_); }

  std::string key_file(const std::string& name, char fill) {
    const auto path = dir_ / name;
    std::ofstream(path) << std::string(64, fill) << "\n";
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return path.string();
  }

  config::subscription pseudonymous(std::string name, char key_fill) {
    auto s = sub(std::move(name), "pseudonymous");
    s.fields = {"id", "type", "subject.class", "content.severity", "derived_from"};
    s.privacy.pseudonym_keys.push_back({"k1", key_file(s.name + ".key", key_fill), "", ""});
    return s;
  }

  gate& make(std::vector<config::subscription> subs, std::vector<config::connector_instance> connectors = {}) {
    config::hub_config cfg;
    cfg.subscriptions = std::move(subs);
    cfg.connectors = std::move(connectors);
    gate_ = std::make_unique<gate>(cfg, std::string(32, 'h'), consents_);
    return *gate_;
  }

  std::vector<storage::outbox_item> route(const json& signal, std::int64_t now = day_2026_11_28) {
    std::vector<storage::outbox_item> out;
    gate_->route(signal, signal["id"], now, out);
    return out;
  }

  fs::path dir_;
  consent_registry consents_;
  std::unique_ptr<gate> gate_;
};

}  // namespace schakel::privacy::gate_testing
