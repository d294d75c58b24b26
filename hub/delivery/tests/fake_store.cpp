#include "fake_store.hpp"

#include <algorithm>

#include "common/signal.hpp"

namespace schakel::delivery::testing {

fake_store::fake_store() {
  worker_ = std::thread([this] {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(jobs_mutex_);
        jobs_cv_.wait(lock, [this] { return closing_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  });
}

fake_store::~fake_store() {
  close();
}

void fake_store::close() {
  {
    std::lock_guard lock(jobs_mutex_);
    closing_ = true;
  }
  jobs_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void fake_store::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mutex_);
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.notify_one();
}

void fake_store::enqueue(const std::string& subscription, std::uint32_t lane, std::string event_json,
                         std::int64_t created_ms, std::string subject_ref, std::string data_category) {
  std::lock_guard lock(mutex_);
  storage::unit_member m;
  m.seq = next_seq_++;
  m.signal_id = "sig-" + std::to_string(m.seq);
  m.signal_type = "nl.schakel.test.event";
  m.subject_ref = std::move(subject_ref);
  m.data_category = std::move(data_category);
  lanes_[{subscription, lane}].events.push_back(
      {std::move(event_json), created_ms != 0 ? created_ms : now_ms(), std::move(m)});
}

std::vector<audit::entry> fake_store::audit() const {
  std::lock_guard lock(mutex_);
  return audit_;
}

std::vector<std::int64_t> fake_store::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void fake_store::append_audit(std::vector<audit::entry> audit, storage::done_fn done) {
  {
    std::lock_guard lock(mutex_);
    for (auto& e : audit) audit_.push_back(std::move(e));
  }
  post([done = std::move(done)] { done({}); });
}

void fake_store::drop_members(std::int64_t unit_id, std::vector<std::int64_t> seqs, std::string,
                              std::vector<audit::entry> audit, storage::done_fn done) {
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (failing_outcomes_ > 0) {
      --failing_outcomes_;
      ++failed_outcomes_;
      post([done = std::move(done)] { done(storage::storage_errc::disk_full); });
      return;
    }
    if (auto* q = find_unit(unit_id)) {
      // Dropped rows are gone; the rest go back to the head of the lane, to form a new unit.
      std::deque<pending_event> keep;
      for (auto& e : in_unit_) {
        if (std::find(seqs.begin(), seqs.end(), e.member.seq) != seqs.end()) {
          dropped_.push_back(e.member.seq);
        } else if (std::any_of(q->head->members.begin(), q->head->members.end(),
                               [&](const auto& m) { return m.seq == e.member.seq; })) {
          keep.push_back(e);
        }
      }
      for (auto it = keep.rbegin(); it != keep.rend(); ++it) q->events.push_front(*it);
      q->head.reset();
      q->in_flight = false;
      for (auto& e : audit) audit_.push_back(std::move(e));
    } else {
      ec = std::make_error_code(std::errc::invalid_argument);
    }
  }
  post([done = std::move(done), ec] { done(ec); });
}

void fake_store::fail_outcomes(std::size_t n) {
  std::lock_guard lock(mutex_);
  failing_outcomes_ = n;
}

std::size_t fake_store::failed_outcomes() const {
  std::lock_guard lock(mutex_);
  return failed_outcomes_;
}

std::vector<std::int64_t> fake_store::delivered() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

std::vector<fake_store::reschedule_call> fake_store::reschedules() const {
  std::lock_guard lock(mutex_);
  return reschedules_;
}

std::vector<storage::delivery_unit> fake_store::formed() const {
  std::lock_guard lock(mutex_);
  return formed_;
}

std::size_t fake_store::next_unit_calls() const {
  std::lock_guard lock(mutex_);
  return next_unit_calls_;
}

void fake_store::append(std::vector<storage::signal_row>, std::vector<storage::outbox_item> items,
                        storage::done_fn done) {
  for (auto& item : items) enqueue(item.subscription, item.lane, std::move(item.event_json));
  post([done = std::move(done)] { done({}); });
}

std::optional<std::string> fake_store::get_signal(const std::string&) {
  return std::nullopt;
}
std::int64_t fake_store::signal_count() {
  return 0;
}

void fake_store::next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now,
                           const storage::batching& batch,
                           std::function<void(std::optional<storage::delivery_unit>, std::int64_t)> cb) {
  std::optional<storage::delivery_unit> out;
  std::int64_t next_due = 0;
  {
    std::lock_guard lock(mutex_);
    ++next_unit_calls_;
    auto& q = lanes_[{subscription, lane}];
    if (disabled_.count(subscription) != 0 || q.in_flight) {
      // nothing: disabled, or the previous unit is still out
    } else if (q.head) {
      if (q.next_attempt_ms <= now) {
        q.in_flight = true;
        out = q.head;
      } else {
        next_due = q.next_attempt_ms;
      }
    } else if (!q.events.empty()) {
      const bool full = q.events.size() >= batch.max_events;
      const bool lingered = q.events.front().created_ms + batch.linger_ms <= now;
      if (!batch.enabled || full || lingered) {
        storage::delivery_unit u;
        u.unit_id = next_unit_id_++;
        u.subscription = subscription;
        u.lane = lane;
        u.webhook_id = "msg_test_" + std::to_string(u.unit_id);
        u.created_ms = q.events.front().created_ms;
        const std::size_t n = batch.enabled ? std::min(batch.max_events, q.events.size()) : 1;
        if (batch.enabled) {
          u.content_type = "application/cloudevents-batch+json";
          u.body = "[";
          for (std::size_t i = 0; i < n; ++i) u.body += (i ? "," : "") + q.events[i].json;
          u.body += "]";
        } else {
          u.content_type = "application/cloudevents+json";
          u.body = q.events.front().json;
        }
        u.event_count = n;
        for (std::size_t i = 0; i < n; ++i) {
          u.members.push_back(q.events[i].member);
          in_unit_.push_back(q.events[i]);
        }
        q.events.erase(q.events.begin(), q.events.begin() + static_cast<std::ptrdiff_t>(n));
        q.head = u;
        q.in_flight = true;
        formed_.push_back(u);
        out = std::move(u);
      } else {
        next_due = q.events.front().created_ms + batch.linger_ms;
      }
    }
  }
  post([cb = std::move(cb), out = std::move(out), next_due]() mutable { cb(std::move(out), next_due); });
}

fake_store::lane_queue* fake_store::find_unit(std::int64_t unit_id) {
  for (auto& [key, q] : lanes_) {
    if (q.head && q.head->unit_id == unit_id) return &q;
  }
  return nullptr;
}

void fake_store::mark_delivered(std::int64_t unit_id, std::vector<audit::entry> audit, storage::done_fn done) {
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (failing_outcomes_ > 0) {
      --failing_outcomes_;
      ++failed_outcomes_;
      post([done = std::move(done)] { done(storage::storage_errc::disk_full); });
      return;
    }
    if (auto* q = find_unit(unit_id)) {
      for (auto& e : audit) audit_.push_back(std::move(e));
      q->head.reset();
      q->in_flight = false;
      delivered_.push_back(unit_id);
    } else {
      ec = std::make_error_code(std::errc::invalid_argument);
    }
  }
  post([done = std::move(done), ec] { done(ec); });
}

void fake_store::reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, std::string last_error,
                            storage::done_fn done) {
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (failing_outcomes_ > 0) {
      --failing_outcomes_;
      ++failed_outcomes_;
      post([done = std::move(done)] { done(storage::storage_errc::disk_full); });
      return;
    }
    if (auto* q = find_unit(unit_id)) {
      q->head->attempts++;
      q->next_attempt_ms = next_attempt_ms;
      q->in_flight = false;
      reschedules_.push_back({unit_id, next_attempt_ms, now_ms(), std::move(last_error)});
    } else {
      ec = std::make_error_code(std::errc::invalid_argument);
    }
  }
  post([done = std::move(done), ec] { done(ec); });
}

void fake_store::move_to_dead_letters(std::int64_t unit_id, std::string reason, std::vector<audit::entry> audit,
                                      storage::done_fn done) {
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (failing_outcomes_ > 0) {
      --failing_outcomes_;
      ++failed_outcomes_;
      post([done = std::move(done)] { done(storage::storage_errc::disk_full); });
      return;
    }
    if (auto* q = find_unit(unit_id)) {
      for (auto& e : audit) audit_.push_back(std::move(e));
      storage::dead_letter d;
      d.unit_id = unit_id;
      d.subscription = q->head->subscription;
      d.webhook_id = q->head->webhook_id;
      d.event_count = q->head->event_count;
      d.attempts = q->head->attempts + 1;
      d.created_ms = q->head->created_ms;
      d.dead_at_ms = now_ms();
      d.reason = std::move(reason);
      dead_.push_back(std::move(d));
      q->head.reset();
      q->in_flight = false;
    } else {
      ec = std::make_error_code(std::errc::invalid_argument);
    }
  }
  post([done = std::move(done), ec] { done(ec); });
}

void fake_store::set_subscription_disabled(const std::string& subscription, bool disabled, storage::done_fn done) {
  {
    std::lock_guard lock(mutex_);
    if (disabled) {
      disabled_.insert(subscription);
    } else {
      disabled_.erase(subscription);
    }
  }
  post([done = std::move(done)] { done({}); });
}

bool fake_store::subscription_disabled(const std::string& subscription) {
  std::lock_guard lock(mutex_);
  return disabled_.count(subscription) != 0;
}

std::vector<storage::dead_letter> fake_store::list_dead_letters(const std::string& sub) {
  std::lock_guard lock(mutex_);
  std::vector<storage::dead_letter> out;
  for (const auto& d : dead_) {
    if (sub.empty() || d.subscription == sub) out.push_back(d);
  }
  return out;
}

std::optional<std::string> fake_store::replay_dead_letter(std::int64_t) {
  return std::nullopt;
}

std::int64_t fake_store::outbox_depth(const std::string& subscription) {
  std::lock_guard lock(mutex_);
  std::int64_t n = 0;
  for (const auto& [key, q] : lanes_) {
    if (key.first != subscription) continue;
    n += static_cast<std::int64_t>(q.events.size()) + (q.head ? static_cast<std::int64_t>(q.head->event_count) : 0);
  }
  return n;
}

std::int64_t fake_store::outbox_depth_total() {
  return 0;
}
std::optional<std::string> fake_store::state_get(const std::string&, const std::string&) {
  return std::nullopt;
}
void fake_store::state_put(const std::string&, const std::string&, const std::string&) {}

}  // namespace schakel::delivery::testing
