#pragma once
// The suite's fixtures: one fresh database of the engine under test per case, opened (and reopened,
// for a restart) through the engine's hooks. One fixture per group of cases, so a group can be
// registered on its own (engine.hpp).
#include <memory>

#include <gtest/gtest.h>

#include "storage/conformance/calls.hpp"
#include "storage/conformance/engine.hpp"

namespace schakel::storage::conformance {

class store_case : public ::testing::TestWithParam<engine>, protected calls {
 protected:
  void SetUp() override {
    db_ = GetParam().fresh();
    ASSERT_TRUE(db_) << GetParam().name << ": no database";
  }

  std::unique_ptr<store> open() { return db_->open(); }
  database& db() { return *db_; }

 private:
  std::unique_ptr<database> db_;
};

class store_log : public store_case {};            ///< appends, atomicity, the log, state, closing
class store_delivery : public store_case {};       ///< lanes, units, webhook ids, batches, dead letters
class store_privacy : public store_case {};        ///< members, drops, consents, retention
class store_audit : public store_case {};          ///< the hash chain, its anchor and purge
class store_links : public store_case {};          ///< links and parked reports
class store_migration : public store_case {};      ///< earlier and newer schema versions
class store_staging : public store_case {};        ///< optional: drop files staged in parts
class store_record_lookup : public store_case {};  ///< optional: find_records

}  // namespace schakel::storage::conformance

// The suites; each macro use registers every case of its suites for one engine.
#define SCHAKEL_STORAGE_CONFORMANCE_SUITE(suite, engine_value)                  \
  INSTANTIATE_TEST_SUITE_P(conformance, suite, ::testing::Values(engine_value), \
                           ::schakel::storage::conformance::engine_name)

/** Every behaviour the hub relies on: each engine registers these. */
#define SCHAKEL_STORAGE_CONFORMANCE(engine_value)                  \
  SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_log, engine_value);      \
  SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_delivery, engine_value); \
  SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_privacy, engine_value);  \
  SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_audit, engine_value);    \
  SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_links, engine_value);    \
  SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_migration, engine_value)

/** Drop files staged in parts (store::stage_part); for engines that override the staging methods. */
#define SCHAKEL_STORAGE_CONFORMANCE_STAGING(engine_value) SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_staging, engine_value)

/** The stored record behind a deletion by record id (store::find_records); for engines that override it. */
#define SCHAKEL_STORAGE_CONFORMANCE_RECORD_LOOKUP(engine_value) \
  SCHAKEL_STORAGE_CONFORMANCE_SUITE(store_record_lookup, engine_value)
