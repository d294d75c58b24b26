// The one test over TCP: the program's cluster listens on 127.0.0.1 with a certificate from a
// throw-away CA (tests/support/pg_cluster.sh start DIR --tls), and the URL asks for
// sslmode=verify-full: the right CA connects encrypted, another CA is refused and the error says why.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrations.hpp"
#include "support/pg_test_database.hpp"

namespace schakel::storage::postgres {
namespace {

using test::pg_test_database;

std::string tcp_url(const std::string& database, const std::string& ca_file) {
  return "postgresql://schakel@127.0.0.1:" + pg_test_database::port() + "/" + database +
         "?sslmode=verify-full&sslrootcert=" + ca_file;
}

connection_settings settings_from_config(const std::string& url) {
  // Through the configuration, as an operator gives it: the URL's sslmode and sslrootcert must survive.
  const auto cfg = config::load_config_text(
      "data_dir: /var/lib/schakel\nstorage:\n  engine: postgres\n  url: \"" + url + "\"\n", "t.yaml");
  connection_settings s;
  s.url = cfg.storage.url;
  s.connect_timeout = std::chrono::seconds(5);
  return s;
}

TEST(pg_tls, verify_full_connects_with_the_right_ca_and_refuses_another) {
  pg_test_database db;
  const std::string tls_dir = pg_test_database::host() + "/tls";

  connection good;
  const auto e = good.open(settings_from_config(tcp_url(db.name(), tls_dir + "/ca.crt")));
  ASSERT_FALSE(e) << e.message;
  EXPECT_TRUE(good.tls_in_use());
  pg_rows rows;
  ASSERT_FALSE(good.exec("tls",
                         "SELECT ssl, host(inet_client_addr()) FROM pg_stat_ssl JOIN pg_stat_activity "
                         "USING (pid) WHERE pid = pg_backend_pid()",
                         {}, &rows));
  EXPECT_EQ(rows.text(0, 0), "t") << "the server sees an encrypted session";
  EXPECT_EQ(rows.text(0, 1), "127.0.0.1") << "over TCP, not the socket";
  const auto report = migrate(good, db.name());
  EXPECT_EQ(report.to, known_schema_version()) << "migrations run over TLS like anywhere else";

  connection bad;
  const auto refused = bad.open(settings_from_config(tcp_url(db.name(), tls_dir + "/other-ca.crt")));
  ASSERT_TRUE(refused) << "a server certificate from another CA must be refused";
  EXPECT_EQ(refused.code, pg_errc::connect_failed);
  EXPECT_NE(refused.message.find("certificate verify failed"), std::string::npos) << refused.message;
  EXPECT_FALSE(bad.healthy());

  // Without TLS the server's pg_hba (hostssl only) refuses, so the test above cannot pass unencrypted.
  connection plain;
  auto plain_settings = settings_from_config("postgresql://schakel@127.0.0.1:" + pg_test_database::port() + "/" +
                                             db.name() + "?sslmode=disable");
  const auto unencrypted = plain.open(plain_settings);
  ASSERT_TRUE(unencrypted);
  EXPECT_NE(unencrypted.message.find("no encryption"), std::string::npos) << unencrypted.message;
}

}  // namespace
}  // namespace schakel::storage::postgres
