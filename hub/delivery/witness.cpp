#include "delivery/witness.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "common/signal.hpp"
#include "delivery/standard_webhooks.hpp"

namespace schakel::delivery {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds first_backoff{1000};
constexpr std::chrono::milliseconds last_backoff{300'000};
/** While one streak of failures lasts, one audit.witness_failed line a minute is enough. */
constexpr std::chrono::seconds failure_log_interval{60};

}  // namespace

client_options client_options_of(const config::webhook_delivery& hook, destination_check destination) {
  client_options options;
  options.ca_file = hook.ca_file;
  options.client_certificate_file = hook.client_certificate_file;
  options.client_key_file = hook.client_key_file;
  options.destination = std::move(destination);
  options.timeout = hook.request_timeout;
  return options;
}

struct checkpoint_witness::impl : std::enable_shared_from_this<impl> {
  struct pending_checkpoint {
    std::int64_t seq = 0;
    std::string line;
  };

  impl(asio::any_io_executor ex, signing_key k, std::string n, metrics::registry& metrics)
      : strand(asio::make_strand(ex)),
        timer(strand),
        key(std::move(k)),
        node(std::move(n)),
        ok(metrics.get_counter("schakel_audit_witness_total", "Checkpoints offered to the audit witness, by outcome",
                               {{"outcome", "ok"}})),
        failed(metrics.get_counter("schakel_audit_witness_total",
                                   "Checkpoints offered to the audit witness, by outcome", {{"outcome", "failed"}})) {}

  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;  // strand only
  signing_key key;
  std::string node;
  std::unique_ptr<https_client> client;  // strand only
  metrics::counter& ok;
  metrics::counter& failed;
  std::shared_ptr<std::atomic<std::int64_t>> accepted_seq = std::make_shared<std::atomic<std::int64_t>>(0);
  std::atomic<bool> in_failure{false};  // the last attempt failed

  mutable std::mutex mutex;
  std::optional<pending_checkpoint> pending;  // guarded by mutex: the newest not yet accepted
  bool sending = false;                       // guarded by mutex: a coroutine runs
  bool stopped = false;                       // guarded by mutex

  void offer(std::int64_t seq, std::string line) {
    {
      std::lock_guard lock(mutex);
      if (stopped || seq <= accepted_seq->load()) return;
      if (pending && pending->seq > seq) return;
      pending = pending_checkpoint{seq, std::move(line)};
      if (sending) {
        // A coroutine backing off: the newer checkpoint is sent now, not after the wait.
        asio::post(strand, [self = shared_from_this()] { self->timer.cancel(); });
        return;
      }
      sending = true;
    }
    asio::co_spawn(
        strand, [self = shared_from_this()] { return self->run(); },
        [self = shared_from_this()](std::exception_ptr e) {
          // run() clears `sending` itself when it ends; clearing it here too could let a second
          // coroutine start beside one that an offer() has just started.
          if (!e) return;
          log::error("audit.witness_crashed");
          std::lock_guard lock(self->mutex);
          self->sending = false;
        });
  }

  asio::awaitable<void> run() {
    auto backoff = first_backoff;
    auto last_failure_log = std::chrono::steady_clock::time_point{};
    for (;;) {
      pending_checkpoint next;
      {
        std::lock_guard lock(mutex);
        if (stopped || !pending) {
          sending = false;
          co_return;
        }
        next = *pending;
      }
      const std::string webhook_id = "ckpt_" + node + "_" + std::to_string(next.seq);
      const std::int64_t ts = now_ms() / 1000;
      std::vector<std::pair<std::string, std::string>> headers{
          {"webhook-id", webhook_id},
          {"webhook-timestamp", std::to_string(ts)},
          {"webhook-signature", sign(key, webhook_id, ts, next.line)},
      };
      const http_result r = co_await client->post(std::move(headers), next.line, "application/json");
      if (r.transport_ok() && r.status >= 200 && r.status < 300) {
        ok.add();
        accepted_seq->store(std::max(accepted_seq->load(), next.seq));
        if (in_failure.exchange(false)) log::info("audit.witness_recovered", {{"seq", next.seq}});
        backoff = first_backoff;
        std::lock_guard lock(mutex);
        if (pending && pending->seq <= next.seq) pending.reset();
        continue;
      }
      failed.add();
      const auto now = std::chrono::steady_clock::now();
      if (!in_failure.load() || now - last_failure_log >= failure_log_interval) {
        nlohmann::json f{{"seq", next.seq}, {"retry_in_ms", backoff.count()}};
        if (r.status != 0) f["status"] = r.status;
        if (!r.error.empty()) f["error"] = r.error;
        log::warn("audit.witness_failed", f);
        last_failure_log = now;
      }
      in_failure.store(true);
      {
        std::lock_guard lock(mutex);
        // A newer checkpoint arrived during the attempt: send that one without waiting.
        if (stopped) {
          sending = false;
          co_return;
        }
        if (pending && pending->seq > next.seq) continue;
      }
      timer.expires_after(backoff);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      backoff = std::min(backoff * 2, last_backoff);
    }
  }
};

std::unique_ptr<checkpoint_witness> checkpoint_witness::create(asio::any_io_executor ex,
                                                               const config::webhook_delivery& hook,
                                                               destination_check destination, std::string node,
                                                               metrics::registry& metrics, std::string* error) {
  secret_error serr{};
  auto key = signing_key::parse(hook.secret, &serr);
  if (!key) {
    if (error) *error = "secret: " + std::string(to_string(serr));
    return nullptr;
  }
  auto p = std::make_shared<impl>(ex, std::move(*key), std::move(node), metrics);
  std::string why;
  p->client = https_client::create(p->strand, hook.url, client_options_of(hook, std::move(destination)), &why);
  if (!p->client) {
    if (error) *error = why;
    return nullptr;
  }
  metrics.add_gauge("schakel_audit_witness_seq", "The last audit checkpoint seq the witness accepted (0: none yet)", {},
                    [seq = p->accepted_seq] { return static_cast<double>(seq->load()); });
  return std::unique_ptr<checkpoint_witness>(new checkpoint_witness(std::move(p)));
}

checkpoint_witness::checkpoint_witness(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

checkpoint_witness::~checkpoint_witness() {
  stop();
}

void checkpoint_witness::offer(std::int64_t seq, std::string line) {
  impl_->offer(seq, std::move(line));
}

bool checkpoint_witness::caught_up() const {
  std::lock_guard lock(impl_->mutex);
  return !impl_->pending.has_value();
}

bool checkpoint_witness::failing() const {
  return impl_->in_failure.load();
}

void checkpoint_witness::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopped = true;
  }
  asio::post(impl_->strand, [self = impl_] {
    self->timer.cancel();
    self->client->close();
  });
}

}  // namespace schakel::delivery
