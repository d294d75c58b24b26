#pragma once
/**
 * Files and folders that hold minors' data or secrets stay with the hub's own user: the data
 * directory, the database with its WAL and shared-memory files, key files and secrets read through
 * `${file:…}`. One rule for all of them, so they cannot drift apart.
 */
#include <filesystem>
#include <optional>
#include <string>

namespace schakel {

/**
 * Why `path` is not private — group or others may read, write or enter it — naming the path, its
 * mode and the `chmod` that fixes it (600 for a file, 700 for a directory). nullopt when only the
 * owner has access, or when `path` does not exist (creating it is the caller's business).
 * Group access is refused too: a shared group is how health data leaks to a backup or web user.
 */
std::optional<std::string> exposure_of(const std::filesystem::path& path);

/** Throws std::runtime_error with exposure_of(path) when `path` is not private. */
void require_private(const std::filesystem::path& path);

/**
 * The data directory: created with mode 0700 (parents as the umask allows) when missing, refused
 * (std::runtime_error naming the chmod) when it exists and is open to group or others.
 */
void create_private_directory(const std::filesystem::path& dir);

/**
 * Why code at `path` (a plugin directory or a plugin file) cannot be trusted, naming the path, why
 * and the fix: it is writable by group or others, or owned by a user that is neither root nor the
 * hub's own. nullopt when only root or the hub's user can change it, or when `path` does not exist
 * (loading then fails on its own). Whoever can change a plugin runs code as the hub, with its keys.
 */
std::optional<std::string> untrusted_code(const std::filesystem::path& path);

}  // namespace schakel
