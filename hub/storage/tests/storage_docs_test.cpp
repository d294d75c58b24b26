// docs/storage.md names the schema version an operator finds in `PRAGMA user_version`; this opens a
// fresh store, reads the version it wrote and holds the page to it, so the next migration cannot
// leave the page behind.
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store_fixture.hpp"

namespace schakel::storage::test_support {
namespace {

int user_version(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int version = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

TEST_F(sqlite_store_test, docs_storage_md_names_the_schema_version_the_store_writes) {
  { auto s = open(); }
  const int version = user_version(path_);
  ASSERT_GT(version, 0);
  std::ifstream in(std::filesystem::path(SCHAKEL_SOURCE_DIR) / "docs/storage.md");
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page, m, std::regex(R"(schema version \(now (\d+)\))"))) << "docs/storage.md";
  EXPECT_EQ(std::stoi(m[1]), version) << "docs/storage.md: the user_version row";
  ASSERT_TRUE(std::regex_search(page, m, std::regex(R"(## Tables \(schema (\d+)\))"))) << "docs/storage.md";
  EXPECT_EQ(std::stoi(m[1]), version) << "docs/storage.md: the Tables heading";
}

}  // namespace
}  // namespace schakel::storage::test_support
