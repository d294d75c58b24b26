#include "processing/processor_runner.hpp"

#include <future>

#include "common/log.hpp"
#include "common/signal.hpp"

namespace schakel::processing {

processor_runner::processor_runner(std::unique_ptr<plugin_host::processor> processor,
                                   std::set<std::string> skip_instances, storage::store& store,
                                   const pipeline::ingest_pipeline& pipeline,
                                   std::function<void(const std::vector<std::string>&)> committed,
                                   metrics::registry* metrics, runner_options options)
    : processor_(std::move(processor)),
      name_(processor_->instance_name()),
      skip_instances_(std::move(skip_instances)),
      store_(store),
      pipeline_(pipeline),
      committed_(std::move(committed)),
      options_(options) {
  if (options_.page_size == 0) options_.page_size = 1;
  if (options_.batch_max_signals < options_.page_size) options_.batch_max_signals = options_.page_size;
  if (auto stored = store_.state_get(position_namespace, name_)) {
    try {
      position_ = std::stoll(*stored);
    } catch (const std::exception&) {
      // A damaged position would silently skip or repeat the log; refuse to guess.
      throw std::runtime_error("processor '" + name_ + "': stored log position is not a number");
    }
  }
  if (metrics != nullptr) {
    const metrics::labels l{{"processor", name_}};
    derived_metric_ = &metrics->get_counter("schakel_processor_derived_total", "Derived signals committed", l);
    errors_metric_ =
        &metrics->get_counter("schakel_processor_errors_total", "Processor failures (signal, emit or commit)", l);
    metrics->add_gauge("schakel_processor_position", "Last signal-log position a processor committed", l,
                       [this] { return static_cast<double>(position_.load()); });
  }
}

processor_runner::~processor_runner() {
  stop();
}

void processor_runner::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void processor_runner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void processor_runner::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

std::size_t processor_runner::drain() {
  std::size_t batches = 0;
  for (;;) {
    const auto s = run_batch();
    if (s == step::committed) {
      ++batches;
      continue;
    }
    return batches;
  }
}

runner_status processor_runner::status() const {
  runner_status s;
  s.name = name_;
  s.position = position_.load();
  s.caught_up = store_.read_signals_after(s.position, 1).empty();
  s.processed = processed_.load();
  s.derived = derived_.load();
  s.errors = errors_.load();
  return s;
}

void processor_runner::loop() {
  log::info("processor.started", {{"processor", name_}, {"position", position_.load()}});
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    const step s = run_batch();
    if (s == step::committed) continue;  // more may be waiting
    std::unique_lock lock(mu_);
    const auto wait = s == step::failed ? options_.retry_wait : options_.idle_wait;
    cv_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
    woken_ = false;
    if (stopping_) break;
  }
  log::info("processor.stopped", {{"processor", name_}, {"position", position_.load()}});
}

processor_runner::step processor_runner::run_batch() {
  const std::int64_t start = position_.load();
  std::int64_t end = start;
  plugin_host::batch_state state;
  pipeline::batch derived;
  std::uint64_t refused = 0, failed = 0, fed = 0;
  const std::int64_t now = now_ms();

  processor_->begin_batch(state, [&](std::string_view json, std::string& error) {
    std::string id = pipeline_.derive(json, name_, processor_->plugin_name(), now, derived, error);
    if (id.empty()) {
      ++refused;
      // The reason names a schema path, never a value: safe to log.
      log::error("processor.derived_refused", {{"processor", name_}, {"reason", error}});
    }
    return id;
  });

  std::size_t scanned = 0;
  while (scanned < options_.batch_max_signals) {
    auto page = store_.read_signals_after(end, options_.page_size);
    if (page.empty()) break;
    for (const auto& s : page) {
      end = s.seq;
      ++scanned;
      if (s.instance == name_ || skip_instances_.contains(s.instance)) continue;
      if (!plugin_host::type_matches(processor_->consumes(), s.type)) continue;
      std::string error;
      ++fed;
      if (!processor_->process(s.json, error)) {
        // One signal the rules cannot handle must not stop them for everyone else.
        ++failed;
        log::error("processor.signal_failed", {{"processor", name_}, {"signal", s.id}, {"error", error}});
      }
    }
    if (page.size() < options_.page_size) break;
  }
  if (end == start) {
    processor_->end_batch();
    return step::idle;
  }
  std::string flush_error;
  // A batch that only moved past signals of no interest needs no flush: just the new position.
  if (fed > 0 && !processor_->flush(flush_error)) {
    ++failed;
    log::error("processor.flush_failed", {{"processor", name_}, {"error", flush_error}});
  }
  processor_->end_batch();
  if (state.read_failed) {
    // The plugin read "absent" where state may exist; committing would overwrite it. The plugin
    // dropped its caches at flush, so the next attempt starts clean from the committed position.
    ++errors_;
    if (errors_metric_ != nullptr) errors_metric_->add();
    log::error("processor.state_read_failed", {{"processor", name_}});
    return step::failed;
  }

  std::vector<storage::state_write> writes;
  writes.reserve(state.writes.size() + 1);
  for (auto& [key, value] : state.writes) {
    storage::state_write w;
    w.ns = name_;
    w.key = key;
    if (value) {
      w.value = std::move(*value);
    } else {
      w.erase = true;
    }
    writes.push_back(std::move(w));
  }
  writes.push_back({position_namespace, name_, std::to_string(end), false});

  const std::size_t derived_count = derived.rows.size();
  std::promise<std::error_code> done;
  auto committed = done.get_future();
  store_.append_with_state(std::move(derived.rows), std::move(derived.items), std::move(writes),
                           [&done](std::error_code ec) { done.set_value(ec); });
  const std::error_code ec = committed.get();
  errors_ += refused + failed;
  if (errors_metric_ != nullptr) errors_metric_->add(refused + failed);
  if (ec) {
    // Nothing of the batch is stored; the plugin's caches were dropped at flush, so the next attempt
    // starts again from the committed position and state.
    ++errors_;
    if (errors_metric_ != nullptr) errors_metric_->add();
    log::error("processor.commit_failed", {{"processor", name_}, {"error", ec.message()}});
    return step::failed;
  }
  position_ = end;
  processed_ += fed;
  derived_ += derived_count;
  if (derived_metric_ != nullptr) derived_metric_->add(derived_count);
  if (derived_count > 0) {
    log::info("processor.derived", {{"processor", name_}, {"signals", derived_count}, {"position", end}});
  }
  if (committed_ && !derived.touched_subscriptions.empty()) committed_(derived.touched_subscriptions);
  return step::committed;
}

}  // namespace schakel::processing
