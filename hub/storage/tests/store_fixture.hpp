#pragma once
// The SQLite engine's own tests' fixture: a fresh database file in a temp directory per test, and the
// blocking helpers the conformance suite uses too (storage/conformance/calls.hpp).
#include <string>

#include <gtest/gtest.h>

#include "storage/conformance/calls.hpp"
#include "storage/store.hpp"
#include "support/temp_dir.hpp"

namespace schakel::storage::test_support {

using conformance::next_result;
using conformance::timeout;

class sqlite_store_test : public ::testing::Test, protected conformance::calls {
 protected:
  std::unique_ptr<store> open() { return open_sqlite_store({.path = path_}); }

  test::temp_dir dir_{"schakel-store"};
  std::string path_ = (dir_ / "hub.db").string();
};

}  // namespace schakel::storage::test_support
