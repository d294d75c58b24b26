#include "storage/types.hpp"

namespace schakel::storage {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "schakel.storage"; }
  std::string message(int value) const override {
    switch (static_cast<storage_errc>(value)) {
      case storage_errc::closed:
        return "the store is closed";
      case storage_errc::not_found:
        return "no live outbox unit with that id";
      case storage_errc::invalid_argument:
        return "a required field is empty or a value is out of range";
      case storage_errc::duplicate:
        return "a uniqueness constraint failed (for example a signal id that is already stored)";
      case storage_errc::busy:
        return "the database stayed locked beyond the busy timeout";
      case storage_errc::disk_full:
        return "the disk or the database size limit is full";
      case storage_errc::io_error:
        return "reading, writing or syncing the database failed";
      case storage_errc::corrupt:
        return "the database file is damaged or not a database";
      case storage_errc::schema_too_new:
        return "the database was written by a newer version of Schakel";
      case storage_errc::internal:
        return "internal storage engine failure";
    }
    return "unknown storage error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& storage_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(storage_errc e) noexcept {
  return {static_cast<int>(e), storage_category()};
}

}  // namespace schakel::storage
