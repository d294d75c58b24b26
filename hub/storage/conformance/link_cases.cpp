// Linking JGZ reports (docs/linking.md): parked signals stored with the append, links that return
// what waits for them, unpark moving parked signals into the log with their outbox items.
#include <future>
#include <string>
#include <vector>

#include "storage/conformance/fixture.hpp"

namespace schakel::storage::conformance {
namespace {

parked_signal parked(const std::string& id, const std::string& hash) {
  return {id,
          "nl.schakel.jgz.sdq.scored",
          "jgz-fhir",
          "jgz-fhir",
          hash,
          1000,
          R"({"id":")" + id + R"(","subject":{"student_key":")" + hash + R"("}})"};
}

std::error_code append_parked(store& s, std::vector<signal_row> sigs, std::vector<outbox_item> items,
                              std::vector<parked_signal> p) {
  return calls::call(
      [&](done_fn d) { s.append_with_parked(std::move(sigs), std::move(items), {}, std::move(p), std::move(d)); });
}

std::pair<std::error_code, std::vector<parked_signal>> link(store& s, student_link l) {
  using result = std::pair<std::error_code, std::vector<parked_signal>>;
  std::promise<result> done;
  auto f = done.get_future();
  s.record_link(std::move(l), {}, [&done](std::error_code ec, std::vector<parked_signal> waiting) {
    done.set_value({ec, std::move(waiting)});
  });
  return calls::wait_for(f, result{std::make_error_code(std::errc::timed_out), {}});
}

std::error_code unpark(store& s, std::vector<std::string> ids, std::vector<signal_row> sigs,
                       std::vector<outbox_item> items) {
  return calls::call([&](done_fn d) { s.unpark(std::move(ids), std::move(sigs), std::move(items), std::move(d)); });
}

TEST_P(store_links, parked_signals_are_stored_with_the_append_and_stay_out_of_the_log) {
  auto s = open();
  ASSERT_FALSE(append_parked(*s, {sig("S1")}, {item("care", "S1")}, {parked("P1", "hashA"), parked("P2", "hashB")}));
  EXPECT_EQ(s->signal_count(), 1);
  EXPECT_EQ(s->read_signals_after(0, 10).size(), 1u);
  EXPECT_EQ(s->outbox_depth("care"), 1);
  const auto all = s->list_parked();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "P1") << "oldest first";
  EXPECT_EQ(all[1].link_hash, "hashB");
  EXPECT_EQ(all[0].instance, "jgz-fhir");
  EXPECT_EQ(all[0].plugin, "jgz-fhir");
  EXPECT_EQ(all[0].received_ms, 1000);
  EXPECT_EQ(all[0].json, parked("P1", "hashA").json);
  // A parked row with no link cannot be stored, and nothing of its append is.
  EXPECT_EQ(append_parked(*s, {sig("S2")}, {}, {parked("P3", "")}), storage_errc::invalid_argument);
  EXPECT_EQ(s->signal_count(), 1);
  EXPECT_EQ(s->list_parked().size(), 2u);
  s->close();
  EXPECT_EQ(open()->list_parked().size(), 2u) << "parked reports survive a restart";
}

TEST_P(store_links, a_link_returns_what_waits_for_it_and_unpark_moves_it_into_the_log) {
  auto s = open();
  ASSERT_FALSE(append_parked(*s, {}, {}, {parked("P1", "hashA"), parked("P2", "hashB"), parked("P3", "hashA")}));
  auto [ec, waiting] = link(*s, {"hashA", "99XX", "00", "1001", 0});
  ASSERT_FALSE(ec);
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0].id, "P1");
  EXPECT_EQ(waiting[1].id, "P3");
  EXPECT_EQ(s->list_parked().size(), 3u);  // still parked until the caller has routed them

  ASSERT_FALSE(unpark(*s, {"P1", "P3"}, {sig("P1"), sig("P3")}, {item("care", "P1"), item("care", "P3")}));
  EXPECT_EQ(s->signal_count(), 2);
  EXPECT_EQ(s->outbox_depth("care"), 2);
  const auto log = s->read_signals_after(0, 10);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].id, "P1");
  EXPECT_EQ(log[1].id, "P3");
  const auto left = s->list_parked();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, "P2");

  // Links survive a restart and a second link for the same hash replaces the first.
  ASSERT_FALSE(link(*s, {"hashA", "99XX", "01", "1002", 0}).first);
  s.reset();
  s = open();
  const auto links = s->load_links();
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].student_key, "1002");
  EXPECT_EQ(links[0].vestiging, "01");
  EXPECT_EQ(s->list_parked().size(), 1u);
}

TEST_P(store_links, unpark_is_one_transaction) {
  auto s = open();
  ASSERT_FALSE(append_parked(*s, {sig("S1")}, {}, {parked("P1", "hashA")}));
  // The signal id is already in the log: the append fails, and the parked row stays.
  EXPECT_EQ(unpark(*s, {"P1"}, {sig("S1")}, {}), storage_errc::duplicate);
  EXPECT_EQ(s->list_parked().size(), 1u);
  EXPECT_EQ(s->signal_count(), 1);
}

TEST_P(store_links, a_report_never_linked_is_purged_after_its_types_retention_and_the_purge_is_audited) {
  auto s = open();
  const std::int64_t day = 24 * 3600 * 1000;
  auto young = parked("P1", "hashA");
  young.received_ms = 20 * day;
  auto old = parked("P2", "hashB");
  old.received_ms = 1 * day;
  auto other_type = parked("P3", "hashC");
  other_type.type = "nl.schakel.other.thing.happened";
  other_type.received_ms = 1 * day;
  ASSERT_FALSE(append_parked(*s, {}, {}, {young, old, other_type}));
  retention_plan plan;
  plan.rules = {{"nl.schakel.jgz.*", 10}};
  plan.default_days = 0;  // keep what no rule names
  const auto r = s->purge(plan, 25 * day);
  EXPECT_EQ(r.parked, 1);
  const auto left = s->list_parked();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].id, "P1");
  EXPECT_EQ(left[1].id, "P3");
  std::vector<std::string> details;
  ASSERT_TRUE(s->read_audit(0, INT64_MAX, [&](const audit::record& r) {
    if (r.text.find("retention.purged") != std::string::npos) details.push_back(r.text);
    return true;
  }));
  ASSERT_EQ(details.size(), 1u);
  EXPECT_NE(details[0].find("parked=1"), std::string::npos) << details[0];
}

}  // namespace
}  // namespace schakel::storage::conformance
