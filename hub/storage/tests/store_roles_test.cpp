// The storage roles are real seams: `store` is each role interface, the roles are independent of each
// other, a caller narrowed to one role takes an object that implements that role alone, and each
// role's view of the SQLite engine reaches the same database.
#include "storage/store.hpp"

#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/any_io_executor.hpp>

#include "delivery/delivery_service.hpp"
#include "plugin_host/plugin_host.hpp"
#include "store_fixture.hpp"

namespace schakel::storage::test_support {
namespace {

// The composition: every existing caller of `store` keeps working through these bases.
static_assert(std::is_base_of_v<signal_log, store>);
static_assert(std::is_base_of_v<outbox, store>);
static_assert(std::is_base_of_v<plugin_state, store>);
static_assert(std::is_base_of_v<registry, store>);
static_assert(std::is_base_of_v<audit_trail, store>);
static_assert(std::has_virtual_destructor_v<signal_log> && std::has_virtual_destructor_v<outbox> &&
              std::has_virtual_destructor_v<plugin_state> && std::has_virtual_destructor_v<registry> &&
              std::has_virtual_destructor_v<audit_trail>);

// The roles do not hide inside one another: an engine can be built, and a fake written, role by role.
template <class A, class B>
constexpr bool apart = !std::is_base_of_v<A, B> && !std::is_base_of_v<B, A>;
static_assert(apart<signal_log, outbox> && apart<signal_log, plugin_state> && apart<signal_log, registry> &&
              apart<signal_log, audit_trail>);
static_assert(apart<outbox, plugin_state> && apart<outbox, registry> && apart<outbox, audit_trail>);
static_assert(apart<plugin_state, registry> && apart<plugin_state, audit_trail> && apart<registry, audit_trail>);

/** An outbox and nothing else: what the delivery service is written against now. */
class outbox_only final : public outbox {
 public:
  void next_unit(const std::string&, std::uint32_t, std::int64_t, const batching&,
                 std::function<void(std::optional<delivery_unit>, std::int64_t)> cb) override {
    cb(std::nullopt, 0);
  }
  void mark_delivered(std::int64_t, std::vector<audit::entry>, done_fn done) override { done({}); }
  void reschedule(std::int64_t, std::int64_t, std::string, done_fn done) override { done({}); }
  void move_to_dead_letters(std::int64_t, std::string, std::vector<audit::entry>, done_fn done) override { done({}); }
  void drop_members(std::int64_t, std::vector<std::int64_t>, std::string, std::vector<audit::entry>,
                    done_fn done) override {
    done({});
  }
  void set_subscription_disabled(const std::string& s, bool disabled, done_fn done) override {
    disabled_ = disabled ? s : "";
    done({});
  }
  bool subscription_disabled(const std::string& s) override { return s == disabled_; }
  void change_subscription(const std::string& s, bool disabled, std::string, std::vector<audit::entry>,
                           done_fn done) override {
    set_subscription_disabled(s, disabled, std::move(done));
  }
  std::vector<dead_letter> list_dead_letters(const std::string&) override { return {}; }
  std::optional<std::string> replay_dead_letter(std::int64_t) override { return std::nullopt; }
  std::int64_t outbox_depth(const std::string& s) override { return s == "partner" ? 3 : 0; }
  std::int64_t outbox_depth_total() override { return 3; }

 private:
  std::string disabled_;
};

/** Plugin state and nothing else: what a plugin's state API is written against now. */
class state_only final : public plugin_state {
 public:
  std::optional<std::string> state_get(const std::string&, const std::string&) override { return std::nullopt; }
  void state_put(const std::string&, const std::string&, const std::string&) override {}
};

static_assert(!std::is_convertible_v<outbox_only*, store*>, "the fake must be a role, not a store");
static_assert(std::is_constructible_v<delivery::delivery_service, boost::asio::any_io_executor, outbox_only&,
                                      const privacy::gate&, std::vector<config::subscription>, metrics::registry&>,
              "delivery needs the outbox role only");
static_assert(std::is_assignable_v<decltype(plugin_host::host_services::state)&, state_only*>,
              "a plugin's state API needs the plugin_state role only");

TEST(store_roles, a_role_only_fake_serves_the_defaults_of_its_role) {
  outbox_only o;
  outbox& role = o;
  std::error_code got = storage_errc::internal;
  role.change_subscription("partner", true, "HTTP 410 Gone", {}, [&](std::error_code ec) { got = ec; });
  EXPECT_FALSE(got);
  // read_subscription_status's default is the outbox's own: no other role is needed for it.
  const auto status = role.read_subscription_status("partner");
  EXPECT_TRUE(status.disabled);
  EXPECT_EQ(status.depth, 3);

  state_only s;
  plugin_host::host_services services;
  services.state = &s;
  std::error_code error = storage_errc::internal;
  EXPECT_FALSE(services.state->state_get_checked("ns", "key", error));
  EXPECT_FALSE(error) << "state_get_checked's default clears the error";
}

TEST_F(sqlite_store_test, each_role_of_the_sqlite_engine_reaches_the_same_database) {
  auto s = open();
  signal_log& log = *s;
  outbox& out = *s;
  plugin_state& state = *s;
  registry& reg = *s;
  audit_trail& trail = *s;

  const std::string id = "01ROLE0000000000000000000A";
  ASSERT_FALSE(call([&](done_fn done) { log.append({sig(id)}, {item("partner", id)}, std::move(done)); }));
  EXPECT_EQ(log.signal_count(), 1);
  EXPECT_TRUE(log.get_signal(id));
  EXPECT_EQ(out.outbox_depth("partner"), 1);
  const auto unit = next(*s, "partner", 0, INT64_MAX / 2).first;
  ASSERT_TRUE(unit);
  ASSERT_FALSE(call([&](done_fn done) { out.mark_delivered(unit->unit_id, {}, std::move(done)); }));
  EXPECT_EQ(out.outbox_depth("partner"), 0);

  state.state_put("roles", "k", "v");
  EXPECT_EQ(state.state_get("roles", "k"), "v");

  std::promise<std::error_code> consent;
  auto consented = consent.get_future();
  reg.append_consent({0, "subject-1", 0, R"({"kind":"consent"})"}, {},
                     [&](std::error_code ec, std::int64_t) { consent.set_value(ec); });
  ASSERT_FALSE(wait(consented));
  EXPECT_EQ(reg.load_consents().size(), 1u);

  audit::entry e;
  e.action = "roles.checked";
  e.outcome = "success";
  ASSERT_FALSE(call([&](done_fn done) { trail.append_audit({e}, std::move(done)); }));
  const auto head = trail.read_audit_head();
  ASSERT_TRUE(head);
  EXPECT_GE(head->seq, 1);
}

}  // namespace
}  // namespace schakel::storage::test_support
