// The linking CLI end to end (docs/linking.md, "API and CLI"): the real daemon over TLS, and the real
// `schakel parked list` and `schakel links import` as child processes. A report by BSN waits, the CLI
// lists it, a linking table with one bad line links it, and it is delivered once with the school key.
// No BSN reaches the CLI's stdout or stderr.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "linking_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string linked_bsn = "111222333";   // the report's; passes the 11-test
const std::string other_bsn = "123456782";    // a second, good link that waits for nothing
const std::string refused_bsn = "111222334";  // fails the 11-test

struct cli_run {
  int exit = -1;
  std::string out;
  std::string err;
};

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/** Runs bin/schakel with `args`; stdout and stderr apart (through sh, as child_process joins them). */
cli_run run_cli(const fs::path& dir, const std::vector<std::string>& args, const std::string& name) {
  const auto out = dir / (name + ".out");
  const auto err = dir / (name + ".err");
  std::vector<std::string> argv{"/bin/sh", "-c", R"(exec "$0" "$@" >"$CLI_OUT" 2>"$CLI_ERR")", SCHAKEL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = child_process::spawn(argv, {{"CLI_OUT", out.string()}, {"CLI_ERR", err.string()}});
  cli_run r;
  r.exit = p.wait_for_exit(30s).value_or(-1);
  r.out = read_all(out);
  r.err = read_all(err);
  return r;
}

struct linking_cli_fixture : linking_hub {
  cli_run cli(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> all = args;
    all.insert(all.end(), {"--config", hub.config_file().string(), "--ca-file", tls.ca_cert.string(), "--token-file",
                           token_file(dir.path(), "linker").string()});
    return run_cli(dir.path(), all, name);
  }

  json parked_by_api() {
    auto r = send(hub.port(), http_call{"GET", "/v1/parked", {}, {{"Authorization", "Bearer " + linking_admin_token}}},
                  tls.ca_cert);
    EXPECT_EQ(r.status, 200u) << r.body;
    return json::parse(r.body, nullptr, false).value("parked", json::array());
  }
};

}  // namespace

TEST_F(linking_cli_fixture, links_import_links_a_parked_report_and_parked_list_follows_it) {
  start();
  auto reply = hub.post_records(report_by("R-1", linked_bsn));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const auto accepted = json::parse(reply.body)["accepted"];
  ASSERT_EQ(accepted.size(), 1u);
  ASSERT_EQ(accepted[0].value("parked", false), true) << reply.body;
  const std::string parked_id = accepted[0]["id"];

  // The table names the waiting report.
  auto listed = cli({"parked", "list"}, "list1");
  ASSERT_EQ(listed.exit, 0) << listed.out << listed.err;
  EXPECT_NE(listed.out.find("ID"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(parked_id), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("src"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("1 report(s) waiting for a link"), std::string::npos) << listed.out;
  auto raw = cli({"parked", "list", "--json"}, "list_json");
  ASSERT_EQ(raw.exit, 0) << raw.err;
  const auto raw_body = json::parse(raw.out, nullptr, false);
  ASSERT_TRUE(raw_body.is_object()) << raw.out;
  ASSERT_EQ(raw_body["parked"].size(), 1u);
  EXPECT_EQ(raw_body["parked"][0]["id"], parked_id);

  // Line 2 links the report, line 3 is not a BSN, line 4 is a link no report waits for.
  // Written as a spreadsheet exports it: BOM, CRLF, upper-case headers.
  const auto csv = dir / "links.csv";
  std::ofstream(csv, std::ios::binary) << "\xEF\xBB\xBF"
                                       << "BSN;BRIN;Vestiging;Student_Key\r\n"
                                       << linked_bsn << ";99XX;00;1001\r\n"
                                       << refused_bsn << ";99XX;00;1003\r\n"
                                       << other_bsn << ";99XX;;2002\r\n";

  // A CLI that cannot verify the hub's certificate records nothing and says it is a transport error.
  auto untrusted = run_cli(dir.path(), {"links", "import", "--config", hub.config_file().string(), csv.string()},
                           "import_untrusted");
  EXPECT_EQ(untrusted.exit, 2) << untrusted.out << untrusted.err;
  EXPECT_NE(untrusted.err.find("cannot reach the hub"), std::string::npos) << untrusted.err;
  EXPECT_EQ(parked_by_api().size(), 1u);
  EXPECT_TRUE(partner.events().empty());

  auto imported = cli({"links", "import", csv.string()}, "import");
  EXPECT_EQ(imported.exit, 1) << imported.out << imported.err;
  EXPECT_EQ(imported.out, "2 link(s) recorded, 1 parked report(s) moved on, 1 line(s) refused\n") << imported.err;
  EXPECT_NE(imported.err.find(csv.string() + ":3: bsn: not a BSN"), std::string::npos) << imported.err;
  EXPECT_EQ(imported.err.find(":2:"), std::string::npos) << imported.err;
  EXPECT_EQ(imported.err.find(":4:"), std::string::npos) << imported.err;
  for (const auto& text : {imported.out, imported.err, untrusted.out, untrusted.err, listed.out, raw.out}) {
    EXPECT_EQ(text.find(linked_bsn), std::string::npos) << text;
    EXPECT_EQ(text.find(refused_bsn), std::string::npos) << text;
    EXPECT_EQ(text.find(other_bsn), std::string::npos) << text;
  }

  // Delivered once, as the school's student.
  ASSERT_TRUE(wait_until([&] { return !partner.events().empty(); })) << hub.log();
  const auto events = partner.events();
  ASSERT_EQ(events.size(), 1u);
  const auto event = events[0]["event"];
  EXPECT_EQ(event["data"]["subject"]["student_key"], "1001");
  EXPECT_EQ(event["data"]["subject"]["school"]["brin"], "99XX");
  EXPECT_EQ(event["id"], parked_id);

  auto after = cli({"parked", "list"}, "list2");
  EXPECT_EQ(after.exit, 0) << after.err;
  EXPECT_EQ(after.out, "no reports are waiting for a link\n");
  EXPECT_TRUE(parked_by_api().empty());

  // A second report by the same BSN is now linked on arrival: one more delivery, none repeated.
  ASSERT_EQ(hub.post_records(report_by("R-2", linked_bsn)).status, 200u);
  ASSERT_TRUE(wait_until([&] { return partner.events().size() == 2; })) << hub.log();
  EXPECT_EQ(partner.distinct_events(), 2u);
  for (const auto& text : {hub.log(), partner.events()[0].dump(), partner.events()[1].dump()})
    EXPECT_EQ(text.find(linked_bsn), std::string::npos);
}

TEST_F(linking_cli_fixture, a_configuration_that_cannot_be_read_is_exit_2_and_named) {
  const auto missing = (dir / "nope.yaml").string();
  auto list = run_cli(dir.path(), {"parked", "list", "--config", missing}, "list_missing");
  EXPECT_EQ(list.exit, 2) << list.out << list.err;
  EXPECT_NE(list.err.find("nope.yaml"), std::string::npos) << list.err;
  const auto csv = dir / "links.csv";
  std::ofstream(csv) << "bsn,brin,student_key\n" << linked_bsn << ",12AB,1001\n";
  auto import = run_cli(dir.path(), {"links", "import", "--config", missing, csv.string()}, "import_missing");
  EXPECT_EQ(import.exit, 2) << import.out << import.err;
  EXPECT_NE(import.err.find("configuration"), std::string::npos) << import.err;
  EXPECT_EQ(import.err.find(linked_bsn), std::string::npos) << import.err;
}

}  // namespace schakel::test
