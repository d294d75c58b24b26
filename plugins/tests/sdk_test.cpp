// The processor SDK headers (schakel/sdk/*, schakel/testing/*) on their own, without a plugin.
#include "schakel/sdk/student_cache.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/sdk/days.hpp"
#include "schakel/sdk/fingerprint.hpp"
#include "schakel/sdk/json_fields.hpp"
#include "schakel/sdk/processor_services.hpp"
#include "schakel/sdk/school.hpp"
#include "schakel/sdk/settings_reader.hpp"
#include "schakel/testing/processor_testing.hpp"

namespace schakel::sdk {
namespace {

using json = nlohmann::json;

/** A state "parsed" from text that must start with "ok:"; the parser's message quotes the text, like JSON parsers do.
 */
std::string parse_ok(std::string_view text) {
  if (text.substr(0, 3) != "ok:") throw std::runtime_error("cannot read " + std::string(text));
  return std::string(text.substr(3));
}

std::string key_of(std::string_view brin, std::string_view student_key) {
  return "stu:" + std::string(brin) + ":" + std::string(student_key);
}

/** Counts reads, so a test can see the cache reads the store once per student and batch. */
class counting_services final : public testing::memory_services {
 public:
  int reads = 0;
  std::optional<std::string> state_get(std::string_view key) override {
    ++reads;
    return memory_services::state_get(key);
  }
};

struct flagged : cached_student<std::string> {
  int loaded_calls = 0;
};

TEST(plugin_sdk_student_cache, absent_state_starts_empty_and_clean) {
  counting_services svc;
  student_cache<std::string> cache(svc, "probe", &key_of, &parse_ok);
  auto& e = cache.get("99XX", "S-1");
  EXPECT_EQ(e.brin, "99XX");
  EXPECT_EQ(e.student_key, "S-1");
  EXPECT_EQ(e.state, "");
  EXPECT_FALSE(e.dirty);
  EXPECT_TRUE(cache.contains("stu:99XX:S-1"));
  EXPECT_TRUE(svc.logs.empty());
}

TEST(plugin_sdk_student_cache, reads_once_per_batch_and_forgets_at_clear) {
  counting_services svc;
  svc.state["stu:99XX:S-1"] = "ok:kept";
  student_cache<std::string> cache(svc, "probe", &key_of, &parse_ok);
  cache.get("99XX", "S-1").state += "+changed";
  EXPECT_EQ(cache.get("99XX", "S-1").state, "kept+changed") << "the second get must return the cached entry";
  EXPECT_EQ(svc.reads, 1);
  EXPECT_EQ(cache.size(), 1u);
  cache.clear();
  EXPECT_FALSE(cache.contains("stu:99XX:S-1"));
  EXPECT_EQ(cache.get("99XX", "S-1").state, "kept");
  EXPECT_EQ(svc.reads, 2);
}

TEST(plugin_sdk_student_cache, unreadable_state_starts_afresh_with_a_log_line_that_quotes_nothing) {
  for (const auto policy : {unreadable_state::keep, unreadable_state::rewrite}) {
    testing::memory_services svc;
    svc.state["stu:99XX:S-SECRET"] = "garbage S-SECRET";
    student_cache<std::string> cache(svc, "probe-plugin", &key_of, &parse_ok, policy);
    const auto& e = cache.get("99XX", "S-SECRET");
    EXPECT_EQ(e.state, "");
    EXPECT_EQ(e.dirty, policy == unreadable_state::rewrite);
    ASSERT_EQ(svc.logs.size(), 1u);
    EXPECT_EQ(svc.logs[0], "probe-plugin: a student's stored state is unreadable; it starts afresh");
    EXPECT_EQ(svc.logs[0].find("S-SECRET"), std::string::npos);
  }
}

TEST(plugin_sdk_student_cache, loaded_hook_sees_the_read_state_once) {
  testing::memory_services svc;
  svc.state["stu:99XX:S-1"] = "ok:abc";
  std::vector<std::string> seen;
  student_cache<std::string, flagged> cache(svc, "probe", &key_of, &parse_ok, unreadable_state::keep,
                                            [&seen](flagged& f) {
                                              seen.push_back(f.state);
                                              ++f.loaded_calls;
                                            });
  cache.get("99XX", "S-1");
  EXPECT_EQ(cache.get("99XX", "S-1").loaded_calls, 1);
  EXPECT_EQ(seen, std::vector<std::string>{"abc"});
  int iterated = 0;
  for (const auto& [key, entry] : cache) {
    EXPECT_EQ(key, "stu:99XX:S-1");
    EXPECT_EQ(entry.state, "abc");
    ++iterated;
  }
  EXPECT_EQ(iterated, 1);
}

TEST(plugin_sdk_read_state, reports_absent_loaded_and_unreadable) {
  testing::memory_services svc;
  std::string out = "before";
  EXPECT_EQ(read_state(svc, "k", &parse_ok, out, "unreadable"), state_read::absent);
  EXPECT_EQ(out, "before") << "absent leaves the target alone";
  svc.state["k"] = "ok:v";
  EXPECT_EQ(read_state(svc, "k", &parse_ok, out, "unreadable"), state_read::loaded);
  EXPECT_EQ(out, "v");
  svc.state["k"] = "bad";
  EXPECT_EQ(read_state(svc, "k", &parse_ok, out, "probe: unreadable"), state_read::unreadable);
  EXPECT_EQ(out, "");
  EXPECT_EQ(svc.logs, std::vector<std::string>{"probe: unreadable"});
}

std::string error_of(void (*read)()) {
  return testing::config_error_of([read](std::string_view) { read(); }, "");
}

TEST(plugin_sdk_settings, root_text_defaults_and_errors) {
  EXPECT_EQ(parse_settings_object(""), json::object());
  EXPECT_EQ(parse_settings_object("null"), json::object());
  EXPECT_EQ(parse_settings_object(R"({"a": 1})"), json({{"a", 1}}));
  EXPECT_EQ(testing::config_error_of(&parse_settings_object, "{"), "settings: not valid JSON");
  EXPECT_EQ(testing::config_error_of(&parse_settings_object, "[1]"), "settings: must be an object");
}

TEST(plugin_sdk_settings, whole_numbers_booleans_and_choices) {
  EXPECT_EQ(read_whole_number(json(3.0), "settings.n", 1, 5), 3);
  EXPECT_EQ(read_whole_number(json(5), "settings.n", 1, 5), 5);
  EXPECT_EQ(error_of([] { read_whole_number(json(1.5), "settings.n", 1, 5); }), "settings.n: must be a whole number");
  EXPECT_EQ(error_of([] { read_whole_number(json("3"), "settings.n", 1, 5); }), "settings.n: must be a whole number");
  EXPECT_EQ(error_of([] { read_whole_number(json(6), "settings.n", 1, 5); }), "settings.n: must be between 1 and 5");
  EXPECT_TRUE(read_boolean(json(true), "settings.b"));
  EXPECT_EQ(error_of([] { read_boolean(json("no"), "settings.b"); }), "settings.b: must be true or false");
  EXPECT_EQ(read_one_of(json("b"), "settings.c", {"a", "b"}), "b");
  EXPECT_EQ(error_of([] {
              read_one_of(json("secret-value"), "settings.c", {"a", "b", "c"});
            }),
            "settings.c: must be one of a | b | c");
}

TEST(plugin_sdk_settings, reader_names_member_paths) {
  const json m = {{"inner", {{"n", 7}, {"flag", false}}}, {"scalar", 1}};
  const settings_reader root(m, "settings.defaults");
  const settings_reader inner = root.object("inner");
  EXPECT_EQ(inner.path(), "settings.defaults.inner");
  EXPECT_EQ(inner.whole_number("n", 1, 10), 7);
  EXPECT_FALSE(inner.boolean("flag"));
  EXPECT_EQ(testing::config_error_of([&](std::string_view) { root.object("scalar"); }, ""),
            "settings.defaults.scalar: must be an object");
  EXPECT_EQ(testing::config_error_of([&](std::string_view) { inner.whole_number("absent", 1, 2); }, ""),
            "settings.defaults.inner.absent: missing");
}

TEST(plugin_sdk_school, reads_brin_and_optional_vestiging_and_names_what_is_wrong) {
  const school both = read_school(json{{"brin", "99XX"}, {"vestiging", "01"}}, "settings.school");
  EXPECT_EQ(both.brin, "99XX");
  EXPECT_EQ(both.vestiging, "01");
  EXPECT_EQ(read_school(json{{"brin", "12AB"}}, "s").vestiging, "");
  const auto error = [](const json& v) {
    return testing::config_error_of([&](std::string_view) { read_school(v, "settings.school"); }, "");
  };
  EXPECT_EQ(error(json::array()), "settings.school: must be an object {brin, vestiging}");
  EXPECT_EQ(error(json::object()), "settings.school.brin: required");
  EXPECT_EQ(error(json{{"brin", "99xx"}}), "settings.school.brin: must be 4 digits or capital letters");
  EXPECT_EQ(error(json{{"brin", "99XX0"}}), "settings.school.brin: must be 4 digits or capital letters");
  EXPECT_EQ(error(json{{"brin", 1234}}), "settings.school.brin: must be 4 digits or capital letters");
  EXPECT_EQ(error(json{{"brin", "99XX"}, {"vestiging", "1"}}), "settings.school.vestiging: must be 2 digits");
  EXPECT_EQ(error(json{{"brin", "99XX"}, {"vestiging", 1}}), "settings.school.vestiging: must be 2 digits");
  EXPECT_EQ(error(json{{"brin", "99XX"}, {"name", "secret"}}), "settings.school.name: unknown field");
  static_assert(is_brin("0000") && is_brin("ZZ99") && !is_brin("ZZ9") && !is_brin("ZZ9a"));
  static_assert(is_vestiging("00") && !is_vestiging("0") && !is_vestiging("0a") && !is_vestiging("000"));
}

TEST(plugin_sdk_settings, parse_name_finds_only_listed_names) {
  enum class colour { red, green };
  static constexpr std::pair<std::string_view, colour> names[] = {{"red", colour::red}, {"green", colour::green}};
  colour c = colour::red;
  EXPECT_TRUE(parse_name("green", names, c));
  EXPECT_EQ(c, colour::green);
  EXPECT_FALSE(parse_name("blue", names, c));
  EXPECT_EQ(c, colour::green) << "a failed parse leaves the target alone";
}

TEST(plugin_sdk_json_fields, paths_through_objects_only) {
  const json j = {{"a", {{"b", "x"}, {"n", 1}}}, {"arr", {1, 2}}};
  EXPECT_EQ(string_at(j, {"a", "b"}), "x");
  EXPECT_EQ(string_at(j, {"a", "n"}), "") << "not a string";
  EXPECT_EQ(string_at(j, {"a", "missing"}), "");
  EXPECT_EQ(find_path(j, {"arr", "0"}), nullptr) << "arrays are not walked";
  ASSERT_NE(find_path(j, {"a", "n"}), nullptr);
  EXPECT_EQ(*find_path(j, {"a", "n"}), 1);
}

// ---- hosted_processor over a host function table ----

struct fake_host {
  std::map<std::string, std::string> state;
  std::vector<std::string> logs;
};

schakel_host_api host_api() {
  schakel_host_api api{};
  api.struct_size = sizeof(schakel_host_api);
  api.abi_major = SCHAKEL_ABI_MAJOR;
  api.abi_minor = SCHAKEL_ABI_MINOR;
  api.log = [](schakel_host_ctx* h, schakel_log_level, const char* m, std::size_t n) {
    reinterpret_cast<fake_host*>(h)->logs.emplace_back(m, n);
  };
  api.state_get = [](schakel_host_ctx* h, const char* k, std::size_t kn, schakel_value_sink_fn sink, void* sink_ctx) {
    auto& state = reinterpret_cast<fake_host*>(h)->state;
    auto it = state.find(std::string(k, kn));
    if (it == state.end()) return SCHAKEL_STATUS_NOT_FOUND;
    sink(sink_ctx, it->second.data(), it->second.size());
    return SCHAKEL_STATUS_OK;
  };
  api.state_put = [](schakel_host_ctx* h, const char* k, std::size_t kn, const char* v, std::size_t vn) {
    reinterpret_cast<fake_host*>(h)->state[std::string(k, kn)] = std::string(v, vn);
    return SCHAKEL_STATUS_OK;
  };
  return api;
}

/** Appends each processed signal's text to the state under "seen" and logs at flush. */
class probe_processor {
 public:
  probe_processor(std::string_view settings, processor_services& svc) : svc_(svc) {
    if (settings == "bad") throw config_error("settings: bad");
  }
  void process(std::string_view signal, processor_context&) {
    svc_.state_put("seen", svc_.state_get("seen").value_or("") + std::string(signal));
  }
  void flush(processor_context&) {
    svc_.log(SCHAKEL_LOG_INFO, "probe: flushed");
    if (!svc_.school_day("99XX", "", 0)) svc_.log(SCHAKEL_LOG_INFO, "probe: no calendar");
  }

 private:
  processor_services& svc_;
};

TEST(plugin_sdk_hosted_processor, forwards_hooks_and_services_to_the_host) {
  fake_host fh;
  const schakel_host_api api = host_api();
  testing::recording_context ctx('P', "probe", "p", "2026-01-01T00:00:00Z");
  hosted_processor<probe_processor> p("", host(&api, reinterpret_cast<schakel_host_ctx*>(&fh)));
  hosted_processor<probe_processor> moved = std::move(p);  // the processor's services must survive a move
  moved.process("a", ctx);
  moved.process("b", ctx);
  moved.flush(ctx);
  EXPECT_EQ(fh.state["seen"], "ab");
  EXPECT_EQ(fh.logs, (std::vector<std::string>{"probe: flushed", "probe: no calendar"}));
  EXPECT_THROW(hosted_processor<probe_processor>("bad", host(&api, nullptr)), config_error);
}

TEST(plugin_sdk_recording_context, completes_ids_and_refuses_on_request) {
  std::vector<json> checked;
  testing::recording_context ctx('T', "conn", "inst", "2026-01-01T00:00:00Z",
                                 [&checked](const json& sig) { checked.push_back(sig); });
  EXPECT_EQ(ctx.emit(R"({"type": "x", "source": {"record_id": "r"}})"), testing::test_ulid('T', 1));
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.raw[0], json::parse(R"({"type": "x", "source": {"record_id": "r"}})"));
  EXPECT_EQ(ctx.emitted[0]["source"], json({{"record_id", "r"}, {"connector", "conn"}, {"instance", "inst"}}));
  EXPECT_EQ(ctx.emitted[0]["id"], testing::test_ulid('T', 1));
  EXPECT_EQ(checked.size(), 1u);
  ctx.refuse = true;
  EXPECT_EQ(ctx.emit(R"({"type": "y"})"), "");
  EXPECT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(testing::test_ulid('T', 1).size(), 26u);
}

TEST(plugin_sdk_settings, merge_replaces_leaves_recurses_into_objects_and_names_unknown_keys) {
  json base = json::parse(R"({"a": 1, "o": {"x": true, "list": [1, 2]}})");
  merge_settings(base, json::parse(R"({"o": {"list": [3]}})"), "settings");
  EXPECT_EQ(base, json::parse(R"({"a": 1, "o": {"x": true, "list": [3]}})"));
  try {
    merge_settings(base, json::parse(R"({"o": {"typo": 1}})"), "settings");
    FAIL() << "an unknown key was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("settings.o.typo"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unknown field"), std::string::npos) << e.what();
  }
  EXPECT_THROW(merge_settings(base, json::parse(R"({"o": 3})"), "settings"), config_error);
}

TEST(plugin_sdk_days, parse_and_format_round_trip_and_refuse_impossible_dates) {
  EXPECT_EQ(parse_day("1970-01-01"), 0);
  EXPECT_EQ(parse_day("1969-12-31"), -1);
  EXPECT_EQ(parse_day("2024-03-01").value() - parse_day("2024-02-28").value(), 2);  // leap year
  EXPECT_EQ(parse_day("2027-03-01").value() - parse_day("2027-02-28").value(), 1);
  EXPECT_FALSE(parse_day("2027-02-29"));
  EXPECT_FALSE(parse_day("2100-02-29"));  // a century is no leap year
  EXPECT_TRUE(parse_day("2000-02-29"));   // unless divisible by 400
  EXPECT_FALSE(parse_day("2026-13-01"));
  EXPECT_FALSE(parse_day("2026-1-01"));
  EXPECT_FALSE(parse_day("2026-01-01T00:00:00Z"));
  for (const char* d : {"1900-03-01", "2000-02-29", "2026-12-31", "2199-01-01"}) {
    EXPECT_EQ(format_day(parse_day(d).value()), d);
  }
}

TEST(plugin_sdk_fingerprint, is_fnv1a_64_in_hex) {
  EXPECT_EQ(fnv1a_hex(""), "cbf29ce484222325");
  EXPECT_EQ(fnv1a_hex("a"), "af63dc4c8601ec8c");
  EXPECT_NE(fnv1a_hex("ab"), fnv1a_hex("ba"));
}

}  // namespace
}  // namespace schakel::sdk
