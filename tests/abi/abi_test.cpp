#include "plugin_host/plugin_host.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "schakel/plugin.h"

namespace ph = schakel::plugin_host;
using nlohmann::json;

namespace {

// ---- the pinned ABI ----

// SHA-256 of plugins/include/schakel/plugin.h as published for ABI 1.2 (1.0 was
// 01c98a4f040396deb6d36c90d50c7a1c02990230aaa3656b2d05ecd2229d76fe, 1.1
// 2d3d6f9dc23d88d6f47e26f4cb80630d483a1835d392ea341f4f8b1756a27366).
constexpr const char* pinned_plugin_h_sha256 = "e7141e8faa8b87a146586ff198bd7093f13c3a292b66379850825d8e1d130af2";

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

TEST(PluginAbi, HeaderHashIsPinned) {
  std::ifstream in(SCHAKEL_PLUGIN_H_PATH, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << SCHAKEL_PLUGIN_H_PATH;
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(sha256_hex(ss.str()), pinned_plugin_h_sha256)
      << "plugins/include/schakel/plugin.h changed. An ABI change needs a deliberate version bump "
         "(SCHAKEL_ABI_MINOR for an appended field, SCHAKEL_ABI_MAJOR for anything else) and a new pinned "
         "hash in tests/abi/abi_test.cpp.";
}

TEST(PluginAbi, VersionAndLayoutOf12) {
  EXPECT_EQ(SCHAKEL_ABI_MAJOR, 1);
  EXPECT_EQ(SCHAKEL_ABI_MINOR, 2);
  // 1.2 appended the emits hook after everything 1.1 had.
  EXPECT_EQ(offsetof(schakel_plugin_descriptor, emits),
            offsetof(schakel_plugin_descriptor, consumes) + sizeof(const char*));
  // 1.1 only appended: the 1.0 fields keep their places, the new ones follow them.
  EXPECT_GT(offsetof(schakel_host_api, school_day_kind), offsetof(schakel_host_api, now_ms));
  EXPECT_GT(offsetof(schakel_host_api, emit_derived), offsetof(schakel_host_api, school_day_kind));
  EXPECT_GT(offsetof(schakel_plugin_descriptor, process), offsetof(schakel_plugin_descriptor, description));
  EXPECT_GT(offsetof(schakel_plugin_descriptor, consumes), offsetof(schakel_plugin_descriptor, flush));
  EXPECT_EQ(sizeof(schakel_day_kind), 4u);
  // The header every version shares: size first, then major/minor.
  EXPECT_EQ(offsetof(schakel_plugin_descriptor, struct_size), 0u);
  EXPECT_EQ(offsetof(schakel_plugin_descriptor, abi_major), 4u);
  EXPECT_EQ(offsetof(schakel_plugin_descriptor, abi_minor), 6u);
  EXPECT_EQ(offsetof(schakel_host_api, struct_size), 0u);
  EXPECT_EQ(sizeof(schakel_status), 4u);
  EXPECT_LT(SCHAKEL_DESCRIPTOR_MIN_SIZE, sizeof(schakel_plugin_descriptor));
}

// ---- a store for the state API (only state_get/put matter here) ----

class fake_store final : public schakel::storage::store {
 public:
  void append(std::vector<schakel::storage::signal_row>, std::vector<schakel::storage::outbox_item>,
              schakel::storage::done_fn done) override {
    done({});
  }
  std::optional<std::string> get_signal(const std::string&) override { return std::nullopt; }
  std::int64_t signal_count() override { return 0; }
  void next_unit(const std::string&, std::uint32_t, std::int64_t, const schakel::storage::batching&,
                 std::function<void(std::optional<schakel::storage::delivery_unit>, std::int64_t)> cb) override {
    cb(std::nullopt, 0);
  }
  void mark_delivered(std::int64_t, std::vector<schakel::audit::entry>, schakel::storage::done_fn done) override {
    done({});
  }
  void drop_members(std::int64_t, std::vector<std::int64_t>, std::string, std::vector<schakel::audit::entry>,
                    schakel::storage::done_fn done) override {
    done({});
  }
  void append_audit(std::vector<schakel::audit::entry>, schakel::storage::done_fn done) override { done({}); }
  bool read_audit(std::int64_t, std::int64_t, const std::function<bool(const schakel::audit::record&)>&) override {
    return true;
  }
  schakel::storage::audit_anchor read_audit_anchor() override { return {}; }
  void append_consent(schakel::storage::consent_row, std::vector<schakel::audit::entry>,
                      std::function<void(std::error_code, std::int64_t)> done) override {
    done({}, 0);
  }
  std::vector<schakel::storage::consent_row> load_consents() override { return {}; }
  void append_with_parked(std::vector<schakel::storage::signal_row>, std::vector<schakel::storage::outbox_item>,
                          std::vector<schakel::storage::state_write>, std::vector<schakel::storage::parked_signal>,
                          schakel::storage::done_fn done) override {
    done({});
  }
  void record_link(schakel::storage::student_link, std::vector<schakel::audit::entry>,
                   std::function<void(std::error_code, std::vector<schakel::storage::parked_signal>)> done) override {
    done({}, {});
  }
  std::vector<schakel::storage::student_link> load_links() override { return {}; }
  void unpark(std::vector<std::string>, std::vector<schakel::storage::signal_row>,
              std::vector<schakel::storage::outbox_item>, schakel::storage::done_fn done) override {
    done({});
  }
  std::vector<schakel::storage::parked_signal> list_parked() override { return {}; }
  schakel::storage::purge_result purge(const schakel::storage::retention_plan&, std::int64_t) override { return {}; }
  void reschedule(std::int64_t, std::int64_t, std::string, schakel::storage::done_fn done) override { done({}); }
  void move_to_dead_letters(std::int64_t, std::string, std::vector<schakel::audit::entry>,
                            schakel::storage::done_fn done) override {
    done({});
  }
  void set_subscription_disabled(const std::string&, bool, schakel::storage::done_fn done) override { done({}); }
  bool subscription_disabled(const std::string&) override { return false; }
  std::vector<schakel::storage::dead_letter> list_dead_letters(const std::string&) override { return {}; }
  std::optional<std::string> replay_dead_letter(std::int64_t) override { return std::nullopt; }
  std::int64_t outbox_depth(const std::string&) override { return 0; }
  std::int64_t outbox_depth_total() override { return 0; }
  void append_with_state(std::vector<schakel::storage::signal_row>, std::vector<schakel::storage::outbox_item>,
                         std::vector<schakel::storage::state_write>, schakel::storage::done_fn done) override {
    done({});
  }
  std::vector<schakel::storage::logged_signal> read_signals_after(std::int64_t, std::size_t) override { return {}; }
  std::optional<std::string> state_get(const std::string& ns, const std::string& key) override {
    std::lock_guard lock(mu_);
    auto it = state_.find(ns + "\n" + key);
    if (it == state_.end()) return std::nullopt;
    return it->second;
  }
  void state_put(const std::string& ns, const std::string& key, const std::string& value) override {
    std::lock_guard lock(mu_);
    state_[ns + "\n" + key] = value;
  }
  void close() override {}

 private:
  std::mutex mu_;
  std::map<std::string, std::string> state_;
};

const std::filesystem::path test_dir = SCHAKEL_TEST_PLUGIN_DIR;

struct loaded {
  std::unique_ptr<ph::connector> connector;
  ph::load_error error;
};

loaded load(const std::string& plugin, const std::string& settings = "{}", schakel::storage::store* store = nullptr,
            const std::filesystem::path& dir = test_dir) {
  loaded out;
  ph::host_services services;
  services.state = store;
  out.connector = ph::load_connector(dir, ph::load_request{"inst-1", plugin, settings}, services, out.error);
  return out;
}

std::string file_of(const std::string& plugin) {
  return (test_dir / (plugin + ".so")).string();
}

// ---- refusals: each names the file and the reason ----

TEST(PluginLoader, RefusesAnotherMajor) {
  auto r = load("abi_wrong_major");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.instance, "inst-1");
  EXPECT_EQ(r.error.file, file_of("abi_wrong_major"));
  EXPECT_EQ(r.error.reason, "ABI major 2 not supported (host 1.2)");
  EXPECT_EQ(ph::to_string(r.error),
            "instance 'inst-1': " + file_of("abi_wrong_major") + ": ABI major 2 not supported (host 1.2)");
}

TEST(PluginLoader, RefusesANewerMinor) {
  auto r = load("abi_newer_minor");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.file, file_of("abi_newer_minor"));
  EXPECT_EQ(r.error.reason,
            "ABI 1.3 is newer than the host's (host 1.2); rebuild the plugin against ABI 1.2 or upgrade the hub");
}

TEST(PluginLoader, RefusesAMissingEntrySymbol) {
  auto r = load("abi_no_entry");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.file, file_of("abi_no_entry"));
  EXPECT_EQ(r.error.reason, "entry symbol schakel_plugin_entry not found");
}

TEST(PluginLoader, RefusesADescriptorSmallerThanTheRequiredPart) {
  auto r = load("abi_too_small");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.reason, "descriptor size 16 is smaller than the ABI 1.0 minimum " +
                                std::to_string(SCHAKEL_DESCRIPTOR_MIN_SIZE) + " (plugin ABI 1.0, host 1.2)");
}

TEST(PluginLoader, RefusesAnUnknownLargerDescriptor) {
  auto r = load("abi_too_big");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.reason, "descriptor size " + std::to_string(sizeof(schakel_plugin_descriptor) + 8) +
                                " unknown for ABI 1.2 (host 1.2 expects at most " +
                                std::to_string(sizeof(schakel_plugin_descriptor)) + ")");
}

TEST(PluginLoader, RefusesAProcessor) {
  auto r = load("abi_wrong_kind");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.reason, "plugin kind 2 is not a connector (kind 1)");
}

TEST(PluginLoader, RefusesAMissingRequiredHook) {
  auto r = load("abi_missing_ingest");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.file, file_of("abi_missing_ingest"));
  EXPECT_EQ(r.error.reason, "required hook 'ingest' is missing");
}

TEST(PluginLoader, RefusesNamesOutsideThePluginDir) {
  for (const char* name : {"../plugins/abi_good", "sub/abi_good", "..", ""}) {
    auto r = load(name);
    EXPECT_EQ(r.connector, nullptr) << name;
    EXPECT_EQ(r.error.reason, "plugin name must be a file stem inside the plugin directory (no '/' or '..')") << name;
  }
}

TEST(PluginLoader, RefusesAMissingFile) {
  auto r = load("does_not_exist");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.file, file_of("does_not_exist"));
  EXPECT_EQ(r.error.reason, "no such plugin file");
}

TEST(PluginLoader, ReportsAConfigRejectedByCreate) {
  auto c = load("abi_c_ok", R"({"mode": 1})");
  EXPECT_EQ(c.connector, nullptr);
  EXPECT_EQ(c.error.file, file_of("abi_c_ok"));
  EXPECT_EQ(c.error.reason, "settings rejected: settings.mode: unknown field");
  auto sdk = load("abi_good", R"({"reject_config": true})");
  EXPECT_EQ(sdk.connector, nullptr);
  EXPECT_EQ(sdk.error.reason, "settings rejected: settings.reject_config: not allowed");
}

TEST(PluginLoader, AnExceptionInTheConstructorIsAnErrorWithoutItsText) {
  auto r = load("abi_good", R"({"throw_in_create": true})");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.reason, "create failed (INTERNAL): unexpected exception while creating the instance");
  EXPECT_EQ(r.error.reason.find("S-000123"), std::string::npos);
}

// ---- working plugins ----

TEST(PluginLoader, LoadsAPluginBuiltAgainstAShorterDescriptor) {
  auto r = load("abi_old_small");
  ASSERT_NE(r.connector, nullptr) << ph::to_string(r.error);
  EXPECT_EQ(r.connector->plugin_name(), "c-old");
  EXPECT_EQ(r.connector->plugin_version(), "0.0.1-old");
  auto result = r.connector->ingest("x", "");
  EXPECT_TRUE(result.parsed);
  ASSERT_EQ(result.signals.size(), 1u);
  EXPECT_EQ(result.signals[0], R"({"from":"c"})");
}

TEST(PluginLoader, CPluginParseErrorBecomesUnparsed) {
  auto r = load("abi_c_ok");
  ASSERT_NE(r.connector, nullptr) << ph::to_string(r.error);
  EXPECT_EQ(r.connector->plugin_version(), "1.2.3");
  auto result = r.connector->ingest("", "application/json");
  EXPECT_FALSE(result.parsed);
  EXPECT_FALSE(result.connector_error);
  EXPECT_EQ(result.parse_error, "empty body");
}

TEST(PluginLoader, SdkPluginEmitsAndRejects) {
  auto r = load("abi_good");
  ASSERT_NE(r.connector, nullptr) << ph::to_string(r.error);
  EXPECT_EQ(r.connector->instance_name(), "inst-1");
  EXPECT_EQ(r.connector->plugin_name(), "abi-good");
  EXPECT_EQ(r.connector->plugin_version(), "9.8.7");
  auto result = r.connector->ingest("emit", "text/plain");
  EXPECT_TRUE(result.parsed);
  ASSERT_EQ(result.signals.size(), 1u);
  EXPECT_EQ(result.signals[0], R"({"content_type":"text/plain"})");
  EXPECT_EQ(result.signal_record_index, std::vector<std::int64_t>{0});
  ASSERT_EQ(result.rejections.size(), 1u);
  EXPECT_EQ(result.rejections[0].index, 1);
  EXPECT_EQ(result.rejections[0].field, "/x");
  EXPECT_EQ(result.rejections[0].reason, "required value missing");
}

TEST(PluginLoader, SdkFailDiscardsPartialResults) {
  auto r = load("abi_good");
  ASSERT_NE(r.connector, nullptr);
  auto result = r.connector->ingest("fail", "");
  EXPECT_FALSE(result.parsed);
  EXPECT_FALSE(result.connector_error);
  EXPECT_EQ(result.parse_error, "invalid JSON at byte 3");
  EXPECT_TRUE(result.signals.empty());
}

TEST(PluginLoader, AnExceptionFromIngestBecomesAConnectorError) {
  auto r = load("abi_good");
  ASSERT_NE(r.connector, nullptr);
  for (const char* body : {"throw", "throw_int"}) {
    auto result = r.connector->ingest(body, "");
    EXPECT_FALSE(result.parsed) << body;
    EXPECT_TRUE(result.connector_error) << body;
    EXPECT_EQ(result.parse_error, "connector error (INTERNAL): connector raised an exception during ingest") << body;
    EXPECT_TRUE(result.signals.empty()) << body;
  }
  // Still usable afterwards.
  EXPECT_EQ(r.connector->ingest("emit", "").signals.size(), 1u);
}

TEST(PluginLoader, StateIsPerInstanceThroughTheStore) {
  fake_store store;
  auto r = load("abi_good", "{}", &store);
  ASSERT_NE(r.connector, nullptr);
  EXPECT_EQ(json::parse(r.connector->ingest("state", "").signals.at(0)), (json{{"next", 1}, {"stored", true}}));
  EXPECT_EQ(json::parse(r.connector->ingest("state", "").signals.at(0)), (json{{"next", 2}, {"stored", true}}));
  EXPECT_EQ(store.state_get("inst-1", "counter"), "2");
}

TEST(PluginLoader, StateWithoutAStoreIsAbsentAndPutFails) {
  auto r = load("abi_good");
  ASSERT_NE(r.connector, nullptr);
  EXPECT_EQ(json::parse(r.connector->ingest("state", "").signals.at(0)), (json{{"next", 1}, {"stored", false}}));
}

TEST(PluginLoader, ClockComesFromTheHost) {
  auto r = load("abi_good");
  ASSERT_NE(r.connector, nullptr);
  const auto now = json::parse(r.connector->ingest("clock", "").signals.at(0)).at("now").get<std::int64_t>();
  EXPECT_GT(now, 1'700'000'000'000);  // after Nov 2023: a real epoch clock in ms
}

TEST(PluginLoader, ConcurrentIngestOnOneInstance) {
  auto r = load("abi_good");
  ASSERT_NE(r.connector, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string body(static_cast<std::size_t>(t * 1000 + i), 'x');
        auto result = r.connector->ingest(body, "");
        if (result.signals.size() == 1 && result.signals[0] == R"({"echo_len":)" + std::to_string(body.size()) + "}" &&
            result.signal_record_index[0] == 7) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 800);
}

TEST(PluginLoader, SeveralInstancesOfOneLibrary) {
  auto a = load("abi_good");
  auto b = load("abi_good");
  ASSERT_NE(a.connector, nullptr);
  ASSERT_NE(b.connector, nullptr);
  a.connector.reset();  // destroying one must leave the library mapped for the other
  EXPECT_EQ(b.connector->ingest("emit", "").signals.size(), 1u);
}

// ---- the real generic-json plugin, through dlopen ----

TEST(PluginLoader, GenericJsonEndToEnd) {
  const std::string settings = R"({
    "type": "nl.schakel.attendance.absence.recorded",
    "mapping": {
      "subject.student_key": {"pointer": "/leerling", "required": true},
      "subject.school.brin": {"pointer": "/brin", "required": true},
      "content.domain": {"const": "attendance"},
      "content.indicator": {"const": "absence_hours"},
      "content.severity": {"const": "info"},
      "content.value": {"pointer": "/uren", "as": "number"},
      "governance.data_category": {"const": "ordinary"}
    }})";
  auto r = load("generic-json", settings, nullptr, SCHAKEL_REAL_PLUGIN_DIR);
  ASSERT_NE(r.connector, nullptr) << ph::to_string(r.error);
  EXPECT_EQ(r.connector->plugin_name(), "generic-json");
  auto result =
      r.connector->ingest(R"([{"leerling":"S-1","brin":"12AB","uren":2},{"brin":"12AB"}])", "application/json");
  ASSERT_TRUE(result.parsed);
  ASSERT_EQ(result.signals.size(), 1u);
  EXPECT_EQ(json::parse(result.signals[0])["subject"]["student_key"], "S-1");
  ASSERT_EQ(result.rejections.size(), 1u);
  EXPECT_EQ(result.rejections[0].index, 1);
  EXPECT_EQ(result.rejections[0].field, "/leerling");

  auto bad = r.connector->ingest("[{", "application/json");
  EXPECT_FALSE(bad.parsed);
  EXPECT_EQ(bad.parse_error, "invalid JSON at byte 3");

  auto typo = load("generic-json", R"({"type":"a.b.c","mapping":{"subject.student_keyy":{"pointer":"/x"}}})", nullptr,
                   SCHAKEL_REAL_PLUGIN_DIR);
  EXPECT_EQ(typo.connector, nullptr);
  EXPECT_EQ(typo.error.reason, "settings rejected: settings.mapping.subject.student_keyy: unknown field");
}

TEST(PluginLoader, DefaultPluginDirIsBesideTheExecutable) {
  const auto dir = ph::default_plugin_dir();
  EXPECT_TRUE(dir.is_absolute());
  EXPECT_EQ(dir.filename(), "plugins");
  EXPECT_EQ(dir.parent_path().filename(), "schakel");
  EXPECT_EQ(dir.parent_path().parent_path().filename(), "lib");
}

}  // namespace

// ---- processors (ABI 1.1) ----

namespace {

std::unique_ptr<ph::processor> load_proc(const std::string& plugin, ph::load_error& error,
                                         const std::string& settings = "{}") {
  return ph::load_processor(test_dir, {"rules-1", plugin, settings}, {}, error);
}

}  // namespace

TEST(ProcessorLoader, LoadsAProcessorWithItsConsumedTypes) {
  ph::load_error error;
  auto p = load_proc("abi_processor", error);
  ASSERT_NE(p, nullptr) << ph::to_string(error);
  EXPECT_EQ(p->plugin_name(), "abi-processor");
  EXPECT_EQ(p->plugin_version(), "1.2.3");
  EXPECT_EQ(p->instance_name(), "rules-1");
  EXPECT_EQ(p->consumes(), (std::vector<std::string>{"nl.schakel.test.event", "nl.schakel.test.more.*"}));
}

TEST(ProcessorLoader, RefusesAConnectorAsProcessorAndAProcessorAsConnector) {
  ph::load_error error;
  EXPECT_EQ(load_proc("abi_good", error), nullptr);
  EXPECT_EQ(error.reason, "plugin kind 1 is not a processor (kind 2)");
  auto r = load("abi_processor");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(r.error.reason, "plugin kind 2 is not a connector (kind 1)");
}

TEST(ProcessorLoader, ProcessorSettingsErrorsNameThePath) {
  ph::load_error error;
  EXPECT_EQ(load_proc("abi_processor", error, R"({"threshold":0})"), nullptr);
  EXPECT_EQ(error.reason, "settings rejected: settings.threshold: must be at least 1");
}

TEST(ProcessorLoader, EmitOutsideABatchIsRefusedAndAFailingSignalIsReportedWithoutContent) {
  ph::load_error error;
  auto p = load_proc("abi_processor", error);
  ASSERT_NE(p, nullptr);
  ph::batch_state state;
  std::vector<std::string> got;
  p->begin_batch(state, [&](std::string_view json, std::string&) {
    got.emplace_back(json);
    return std::string("01JDZ3K7Q8M2X4V6N8P0R2T4W6");
  });
  const std::string throwing =
      R"({"id":"x","subject":{"student_key":"S-000123"},"content":{"evidence":{"action":"throw"}}})";
  std::string why;
  EXPECT_FALSE(p->process(throwing, why));
  EXPECT_EQ(why, "process failed (INTERNAL): processor raised an exception while processing a signal");
  EXPECT_EQ(why.find("S-000123"), std::string::npos);
  // Three counted signals: the third derives one signal and stores the id the sink returned.
  const std::string counted = R"({"id":"01JDZ3K7Q8M2X4V6N8P0R2T4W5","subject":{"student_key":"S-1"},"content":{}})";
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(p->process(counted, why));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(state.writes.at("alert:S-1"), "01JDZ3K7Q8M2X4V6N8P0R2T4W6");
  EXPECT_EQ(state.writes.at("n:S-1"), "3");
  EXPECT_TRUE(p->flush(why));
  EXPECT_EQ(state.writes.at("flushes"), "1");
  p->end_batch();
}
