#pragma once
/**
 * Per-batch caches of persisted processor state. A processor reads a student's state on first use in
 * a batch, changes it in memory, writes the changed ones at flush and then empties the cache, so its
 * memory is bounded by one batch, never by history.
 *
 *   struct cached_student : sdk::cached_student<student_state> { bool touched = false; };
 *   sdk::student_cache<student_state, cached_student> students_{svc, "my-processor", &student_state_key,
 *                                                              &parse_student_state};
 *   auto& cs = students_.get(brin, student_key);   // loads (or starts afresh) on first use
 *   ...
 *   for (auto& [key, cs] : students_) if (cs.dirty) svc.state_put(key, serialize(cs.state));
 *   students_.clear();
 */
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "schakel/sdk/processor_services.hpp"

namespace schakel::sdk {

/** What read_state found under a key. */
enum class state_read { absent, loaded, unreadable };

/**
 * Reads `key` and parses it into `out` with `parse` (which throws on a value it cannot read). An
 * unreadable value logs `unreadable_message` at ERROR and leaves `out` default-constructed. The
 * exception's what() is never logged: a JSON parser's message quotes the text it choked on, which
 * may hold a student key.
 */
template <class State, class Parse>
state_read read_state(processor_services& svc, std::string_view key, Parse&& parse, State& out,
                      std::string_view unreadable_message) {
  auto text = svc.state_get(key);
  if (!text) return state_read::absent;
  try {
    out = std::invoke(parse, std::string_view(*text));
    return state_read::loaded;
  } catch (const std::exception&) {
    svc.log(SCHAKEL_LOG_ERROR, unreadable_message);
    out = State{};
    return state_read::unreadable;
  }
}

/** The part of a cached student every processor has; derive from it to add per-batch flags. */
template <class State>
struct cached_student {
  std::string brin;
  std::string student_key;
  State state{};
  bool dirty = false;  ///< state changed: write at flush
};

/** What a student_cache does with a stored state it cannot read (it always starts afresh and logs). */
enum class unreadable_state {
  keep,     ///< mark nothing: the unreadable value stays stored until the student's state changes
  rewrite,  ///< mark the entry dirty, so the fresh state replaces the unreadable value at flush
};

/**
 * The students a batch touched, by state key. `Entry` is cached_student<State> or a type derived
 * from it. Not thread-safe: process and flush run on one thread at a time.
 */
template <class State, class Entry = cached_student<State>>
class student_cache {
  static_assert(std::is_base_of_v<cached_student<State>, Entry>, "Entry must derive from cached_student<State>");

 public:
  using key_function = std::function<std::string(std::string_view brin, std::string_view student_key)>;
  using parse_function = std::function<State(std::string_view text)>;
  /** Runs once per entry, after its state was read (or started afresh), before it is cached. */
  using loaded_function = std::function<void(Entry&)>;
  using map_type = std::map<std::string, Entry>;

  /**
   * `plugin_name` starts the log line about an unreadable state (log lines name their plugin);
   * `svc` must outlive the cache.
   */
  student_cache(processor_services& svc, std::string_view plugin_name, key_function state_key, parse_function parse,
                unreadable_state on_unreadable = unreadable_state::keep, loaded_function loaded = nullptr)
      : svc_(svc),
        unreadable_message_(std::string(plugin_name) + ": a student's stored state is unreadable; it starts afresh"),
        state_key_(std::move(state_key)),
        parse_(std::move(parse)),
        on_unreadable_(on_unreadable),
        loaded_(std::move(loaded)) {}

  /** The state key of a student (what flush writes under). */
  std::string key_of(std::string_view brin, std::string_view student_key) const { return state_key_(brin, student_key); }

  /** The cached entry, read from the store on first use in the batch (an unreadable state starts afresh). */
  Entry& get(const std::string& brin, const std::string& student_key) {
    std::string key = key_of(brin, student_key);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    Entry e;
    e.brin = brin;
    e.student_key = student_key;
    if (read_state(svc_, key, parse_, e.state, unreadable_message_) == state_read::unreadable &&
        on_unreadable_ == unreadable_state::rewrite) {
      e.dirty = true;
    }
    if (loaded_) loaded_(e);
    return entries_.emplace(std::move(key), std::move(e)).first->second;
  }

  /** True when the student is cached in this batch (the store is not asked). */
  bool contains(const std::string& key) const { return entries_.contains(key); }

  typename map_type::iterator begin() { return entries_.begin(); }
  typename map_type::iterator end() { return entries_.end(); }
  typename map_type::const_iterator begin() const { return entries_.begin(); }
  typename map_type::const_iterator end() const { return entries_.end(); }
  std::size_t size() const { return entries_.size(); }

  /** End of a batch: forget every entry (write the dirty ones first). */
  void clear() { entries_.clear(); }

 private:
  processor_services& svc_;
  std::string unreadable_message_;
  key_function state_key_;
  parse_function parse_;
  unreadable_state on_unreadable_;
  loaded_function loaded_;
  map_type entries_;
};

}  // namespace schakel::sdk
