#include "privacy/report.hpp"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::privacy {
namespace {

config::subscription_filter types(std::vector<std::string> t) {
  config::subscription_filter f;
  f.types = std::move(t);
  return f;
}

TEST(may_carry_health_data, patterns_and_exact_types) {
  EXPECT_TRUE(config::may_carry_health_data(types({})));  // all types
  EXPECT_TRUE(config::may_carry_health_data(types({"*"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.*"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.attendance.*"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.attendance.sick"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.attendance.sickness_started"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.attendance.mazl.alert"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.jgz.*"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.jgz.report.received"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.observation.concern"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.match.detected"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.match.*"})));
  EXPECT_TRUE(config::may_carry_health_data(types({"nl.schakel.calendar.holiday", "nl.schakel.jgz.x"})));

  EXPECT_FALSE(config::may_carry_health_data(types({"nl.schakel.attendance.absent_unauthorised"})));
  EXPECT_FALSE(config::may_carry_health_data(types({"nl.schakel.attendance.late*"})));
  EXPECT_FALSE(config::may_carry_health_data(types({"nl.schakel.match.detected_old"})));
  EXPECT_FALSE(config::may_carry_health_data(types({"nl.schakel.calendar.*", "nl.schakel.enrolment.changed"})));
  EXPECT_FALSE(config::may_carry_health_data(types({"nl.schakel.attendance.mazl"})));  // not below "mazl."
}

config::hub_config sample_config() {
  config::hub_config c;
  c.source_file = "/etc/schakel/schakel.yaml";
  c.privacy.retention.signal_days = {{"nl.schakel.attendance.sick*", 30}, {"nl.schakel.*", 365}};
  c.privacy.retention.default_signal_days = 0;
  c.privacy.retention.audit_days = 1826;

  config::subscription leerplicht;
  leerplicht.name = "leerplicht-absence";
  leerplicht.partner = "leerplicht";
  leerplicht.filter = types({"nl.schakel.attendance.absent_unauthorised"});
  leerplicht.fields = {"subject.student_key", "type", "time"};
  leerplicht.privacy.identity = "identified";
  leerplicht.privacy.purpose = "Leerplicht: unauthorised absence";
  leerplicht.privacy.legal_basis = "legal_obligation";
  leerplicht.privacy.basis_reference = "Leerplichtwet 1969 art. 21";
  c.subscriptions.push_back(leerplicht);

  config::subscription jgz;
  jgz.name = "jgz-mazl";
  jgz.partner = "ggd \"Hollands Midden\", JGZ";  // needs quoting in CSV
  jgz.filter = types({"nl.schakel.attendance.*"});
  jgz.fields = {"subject.pseudonym", "content.days"};
  jgz.privacy.identity = "pseudonymous";
  jgz.privacy.purpose = "M@ZL: sick-leave follow-up | by the JGZ doctor";
  jgz.privacy.legal_basis = "consent";
  jgz.privacy.health_ground = "explicit_consent";
  jgz.privacy.consent_framework = "wgbo";
  jgz.privacy.pseudonym_keys = {{"2026", "/keys/2026", "2026-01-01", "2026-12-31"},
                                {"2027", "/keys/2027", "2026-12-01", ""}};
  c.subscriptions.push_back(jgz);

  config::connector_instance som;
  som.name = "som-school-a";
  som.plugin = "generic-json";
  som.bsn.keys = {{"content.bsn", "link"}};
  som.bsn.exempt = {"content.record_no", "content.evidence.*"};
  c.connectors.push_back(som);
  config::connector_instance cal;
  cal.name = "calendar";
  cal.plugin = "ics";
  c.connectors.push_back(cal);
  return c;
}

/** Minimal RFC 4180 reader, independent of the writer, to check what a spreadsheet would see. */
std::vector<std::vector<std::string>> read_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST(privacy_report_csv, header_rows_and_quoting) {
  const std::string csv = privacy_report_csv(sample_config());
  const auto rows = read_csv(csv);
  ASSERT_EQ(rows.size(), 3u) << csv;
  const std::vector<std::string> header = {
      "Subscription",         "Recipient",     "Data",    "Data category",  "Purpose",
      "Legal basis (art. 6)", "Art. 9 ground", "Consent", "Identity level", "Retention"};
  EXPECT_EQ(rows[0], header);

  const auto& l = rows[1];
  ASSERT_EQ(l.size(), 10u);
  EXPECT_EQ(l[0], "leerplicht-absence");
  EXPECT_EQ(l[1], "leerplicht");
  EXPECT_EQ(l[2], "nl.schakel.attendance.absent_unauthorised; fields: subject.student_key, type, time");
  EXPECT_EQ(l[3], "personal data");
  EXPECT_EQ(l[5], "legal obligation (art. 6(1)(c)); Leerplichtwet 1969 art. 21");
  EXPECT_EQ(l[6], "n/a");
  EXPECT_EQ(l[7], "no");
  EXPECT_EQ(l[8], "identified");
  EXPECT_EQ(l[9], "signals: nl.schakel.* 365 days; audit: 1826 days");

  const auto& j = rows[2];
  ASSERT_EQ(j.size(), 10u);
  EXPECT_EQ(j[1], "ggd \"Hollands Midden\", JGZ");
  EXPECT_EQ(j[3], "health (art. 9)");
  EXPECT_EQ(j[5], "consent (art. 6(1)(a))");
  EXPECT_EQ(j[6], "explicit consent (art. 9(2)(a))");
  EXPECT_EQ(j[7].rfind("yes, WGBO", 0), 0u) << j[7];
  EXPECT_NE(j[7].find("objection honoured"), std::string::npos);
  EXPECT_EQ(j[8], "pseudonymous; keys: 2026 (from 2026-01-01 until 2026-12-31), 2027 (from 2026-12-01)");
  // The sick-leave rule can apply to nl.schakel.attendance.*, the broader rule covers the rest.
  EXPECT_EQ(j[9], "signals: nl.schakel.attendance.sick* 30 days, nl.schakel.* 365 days; audit: 1826 days");

  // The raw text: quoted field with doubled quotes, CRLF line ends.
  EXPECT_NE(csv.find("\"ggd \"\"Hollands Midden\"\", JGZ\""), std::string::npos);
  EXPECT_EQ(csv.substr(csv.size() - 2), "\r\n");
}

TEST(privacy_report_csv, all_types_and_default_retention) {
  config::hub_config c;
  c.privacy.retention.signal_days = {{"nl.schakel.jgz.*", 90}};
  c.privacy.retention.default_signal_days = 730;
  config::subscription s;
  s.name = "everything";
  s.partner = "p";
  s.privacy.identity = "aggregate";
  s.privacy.legal_basis = "public_task";
  c.subscriptions.push_back(s);
  const auto rows = read_csv(privacy_report_csv(c));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][2], "all types; fields: none");
  EXPECT_EQ(rows[1][3], "health (art. 9)");
  EXPECT_EQ(rows[1][6], "none");  // health without a ground shows as a gap
  EXPECT_EQ(rows[1][7], "no; objection honoured (art. 21)");
  EXPECT_EQ(rows[1][9], "signals: nl.schakel.jgz.* 90 days, other 730 days; audit: 1826 days");
}

TEST(privacy_report_csv, the_schools_own_subscription_is_marked_as_receiving_staff_notes) {
  config::hub_config c;
  config::subscription s;
  s.name = "mentor";
  s.partner = "zorgcoordinator";
  s.privacy.identity = "identified";
  s.privacy.audience = "school";
  s.privacy.legal_basis = "public_task";
  c.subscriptions.push_back(s);
  c.subscriptions.push_back(s);
  c.subscriptions.back().name = "partner";
  c.subscriptions.back().privacy.audience = "partner";
  const auto rows = read_csv(privacy_report_csv(c));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][8], "identified; school's own staff (receives staff notes)");
  EXPECT_EQ(rows[2][8], "identified");
}

TEST(privacy_report_csv, no_subscriptions_header_only) {
  const auto rows = read_csv(privacy_report_csv(config::hub_config{}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].size(), 10u);
}

TEST(privacy_report_markdown, tables_escaping_and_determinism) {
  const auto c = sample_config();
  const std::string md = privacy_report_markdown(c);
  EXPECT_EQ(md, privacy_report_markdown(c));  // no clock, no randomness
  EXPECT_EQ(md.rfind("# ", 0), 0u);
  EXPECT_NE(md.find("`/etc/schakel/schakel.yaml`"), std::string::npos);
  EXPECT_NE(md.find("| Subscription | Recipient |"), std::string::npos);
  EXPECT_NE(md.find("M@ZL: sick-leave follow-up \\| by the JGZ doctor"), std::string::npos);
  EXPECT_NE(md.find("## Connectors and BSN handling"), std::string::npos);
  EXPECT_NE(md.find("| som-school-a | generic-json | content.bsn (link) | content.record_no, content.evidence.* |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| calendar | ics | none | none |"), std::string::npos);

  // Every table row of the subscription table has the same number of cells as its header.
  std::istringstream lines(md);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("| leerplicht-absence", 0) == 0 || line.rfind("| jgz-mazl", 0) == 0) {
      ++rows;
      std::size_t bars = 0;
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++bars;
      }
      EXPECT_EQ(bars, 11u) << line;
    }
  }
  EXPECT_EQ(rows, 2);
}

TEST(privacy_report_markdown, empty_config) {
  const std::string md = privacy_report_markdown(config::hub_config{});
  EXPECT_NE(md.find("No subscriptions: nothing leaves the hub."), std::string::npos);
  EXPECT_NE(md.find("`(inline text)`"), std::string::npos);
}

}  // namespace
}  // namespace schakel::privacy
