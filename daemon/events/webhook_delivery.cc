// Shape: one io_context run by one thread; every piece of state below Impl's public
// methods is touched only on that thread, so it needs no lock. The public methods
// post to it; the counters are atomics.
//
// Events read from the outbox wait in `buffered_` (by seq) until every hook has
// finished with them. Each hook has one lane per workspace: a queue of seqs of which
// only the front one is being attempted (in flight, or waiting out its backoff), so a
// workspace's events reach a hook in order while lanes go side by side. Ready lanes
// queue per hook for one of its max_in_flight_per_hook request slots.
//
// Reconfigure bumps `generation_`: answers and timers of an older generation are
// ignored, and the new hooks start once the older requests still in flight have
// ended (`draining_`), so a late answer cannot overtake the new generation's order.
#include "events/webhook_delivery.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "events/webhook_client.h"
#include "util/crypto.h"
#include "util/thread_name.h"

namespace trashd {

namespace asio = boost::asio;
namespace json = boost::json;

std::string DeliveryBody(const Event& event) {
  json::object body;
  body["id"] = event.id;
  body["seq"] = event.seq;
  body["type"] = event.type;
  body["workspace"] = event.workspace;
  body["time"] = IsoTime(event.time);
  boost::system::error_code ec;
  json::value data = json::parse(event.payload, ec);
  body["data"] = ec ? json::value(event.payload) : std::move(data);
  return json::serialize(body);
}

std::string DeliverySignature(std::string_view secret, std::string_view body) {
  return "sha256=" + crypto::HmacSha256Hex(secret, body);
}

std::optional<std::set<std::string>> EventTypesTaken(const std::vector<Webhook>& hooks) {
  std::set<std::string> types;
  for (const Webhook& hook : hooks) {
    if (hook.events.empty()) return std::nullopt;
    types.insert(hook.events.begin(), hook.events.end());
  }
  return types;
}

namespace {

// Events asked of the outbox at a time.
constexpr size_t kReadBatch = 256;

bool Takes(const Webhook& hook, const std::string& type) {
  return hook.events.empty() ||
         std::find(hook.events.begin(), hook.events.end(), type) != hook.events.end();
}

// The wait after the `failures`-th failed attempt in a row.
std::chrono::milliseconds Backoff(const Webhook& hook, int failures) {
  int64_t wait = std::max<int64_t>(hook.backoff_initial_ms, 0);
  for (int i = 1; i < failures && wait < hook.backoff_max_ms; ++i) wait *= 2;
  return std::chrono::milliseconds(std::min(wait, hook.backoff_max_ms));
}

std::string Describe(const WebhookAnswer& answer) {
  return answer.status ? "answered " + std::to_string(answer.status) : answer.error;
}

}  // namespace

struct EventDelivery::Impl {
  // An event read from the outbox.
  struct Buffered {
    std::string id;
    std::string type;
    std::string body;
    size_t hooks_left = 0;  // hooks that have yet to finish with it
    TimeMs time = 0;        // when it was queued
  };
  // One hook's events of one workspace.
  struct Lane {
    enum class State { kIdle, kReady, kInFlight, kWaiting };
    std::deque<uint64_t> seqs;  // the front one is the one being attempted
    State state = State::kIdle;
    int failures = 0;  // failed attempts of the front one
    std::optional<asio::steady_timer> backoff;
  };
  struct Hook {
    Webhook config;
    size_t in_flight = 0;
    std::deque<std::string> ready;  // workspaces whose lane waits for a request slot
    std::unordered_map<std::string, Lane> lanes;
  };

  Impl(Engine* engine, std::vector<Webhook> configs, Log log,
       EventDeliveryOptions options)
      : engine(engine), log(std::move(log)), options(options) {
    leading = !this->options.leads;  // alone: leads from the start, unannounced
    SetHooks(std::move(configs));
  }

  // ---- on the loop thread -----------------------------------------------------------

  void SetHooks(std::vector<Webhook> configs) {
    hooks.clear();
    for (Webhook& c : configs)
      hooks.push_back(std::make_unique<Hook>(Hook{std::move(c), 0, {}, {}}));
    has_hooks = !hooks.empty();
  }

  void Pump() {
    if (stopped || !Lead()) return;
    ReadOutbox();
    for (size_t h = 0; h < hooks.size(); ++h) Dispatch(h);
    Acknowledge();
    // With no webhook nothing wakes the loop between polls (see Notify), so each poll
    // must catch up with everything queued since the last one.
    while (hooks.empty() && pending == 0 && buffered_full_read) {
      ReadOutbox();
      Acknowledge(/*force=*/true);
    }
  }

  void ReadOutbox() {
    buffered_full_read = false;
    while (buffered.size() < options.max_buffered_events) {
      size_t want = std::min(kReadBatch, options.max_buffered_events - buffered.size());
      std::vector<Event> events = engine->PendingEvents(read_after, want);
      for (Event& e : events) Admit(std::move(e));
      if (events.size() < want) break;
      buffered_full_read = buffered.size() >= options.max_buffered_events;
    }
    CountPending();
  }
  bool buffered_full_read = false;  // the last read stopped at max_buffered_events

  void Admit(Event event) {
    read_after = event.seq;
    Buffered& b = buffered[event.seq];
    b.id = event.id;
    b.type = event.type;
    b.time = event.time;
    for (size_t h = 0; h < hooks.size(); ++h) {
      if (!Takes(hooks[h]->config, event.type)) continue;
      b.hooks_left++;
      Lane& lane = hooks[h]->lanes[event.workspace];
      lane.seqs.push_back(event.seq);
      MakeReady(h, event.workspace, lane);
    }
    // Encoded only for a hook to send: most events go to none when few hooks filter.
    if (b.hooks_left > 0) b.body = DeliveryBody(event);
  }

  void MakeReady(size_t h, const std::string& ws, Lane& lane) {
    if (lane.state != Lane::State::kIdle || lane.seqs.empty()) return;
    lane.state = Lane::State::kReady;
    hooks[h]->ready.push_back(ws);
  }

  void Dispatch(size_t h) {
    if (draining > 0 || stopped || !Lead()) return;
    Hook& hook = *hooks[h];
    while (hook.in_flight < std::max<size_t>(options.max_in_flight_per_hook, 1) &&
           !hook.ready.empty()) {
      std::string ws = std::move(hook.ready.front());
      hook.ready.pop_front();
      Lane& lane = hook.lanes.at(ws);
      lane.state = Lane::State::kInFlight;
      hook.in_flight++;
      Attempt(h, ws, lane.seqs.front());
    }
  }

  void Attempt(size_t h, const std::string& ws, uint64_t seq) {
    const Webhook& config = hooks[h]->config;
    const Buffered& b = buffered.at(seq);
    WebhookPost post;
    post.host = config.host;
    post.port = config.port;
    post.target = config.target;
    post.body = b.body;
    post.headers = {{"X-Trashd-Event-Id", b.id}, {"X-Trashd-Event-Type", b.type}};
    if (!config.secret.empty())
      post.headers.emplace_back("X-Trashd-Signature",
                                DeliverySignature(config.secret, b.body));
    post.timeout = options.request_timeout;
    PostWebhook(io, std::move(post),
                [this, generation = generation, h, ws, seq](WebhookAnswer answer) {
                  Answered(generation, h, ws, seq, answer);
                });
  }

  void Answered(uint64_t of_generation, size_t h, const std::string& ws, uint64_t seq,
                const WebhookAnswer& answer) {
    if (of_generation != generation) {
      if (--draining == 0) Pump();
      return;
    }
    Hook& hook = *hooks[h];
    hook.in_flight--;
    Lane& lane = hook.lanes.at(ws);
    if (answer.status >= 200 && answer.status < 300) {
      delivered++;
      FinishFront(h, ws, lane);
      Dispatch(h);
      return;
    }
    failed_attempts++;
    if (++lane.failures >= hook.config.max_attempts) {
      given_up++;
      Report(LogLevel::kWarn, "webhook " + hook.config.url + ": gave up event " +
                                  buffered.at(seq).id + " (" + buffered.at(seq).type +
                                  ", workspace " + ws + ") after " +
                                  std::to_string(lane.failures) +
                                  " attempts; the last one: " + Describe(answer));
      FinishFront(h, ws, lane);
    } else {
      std::chrono::milliseconds wait = Backoff(hook.config, lane.failures);
      Report(LogLevel::kInfo,
             "webhook " + hook.config.url + ": event " + buffered.at(seq).id +
                 " attempt " + std::to_string(lane.failures) + " of " +
                 std::to_string(hook.config.max_attempts) + " failed: " +
                 Describe(answer) + "; again in " + std::to_string(wait.count()) + " ms");
      lane.state = Lane::State::kWaiting;
      if (!lane.backoff) lane.backoff.emplace(io);
      lane.backoff->expires_after(wait);
      lane.backoff->async_wait(
          [this, generation = generation, h, ws](boost::system::error_code ec) {
            if (ec || generation != this->generation) return;
            Lane& waited = hooks[h]->lanes.at(ws);
            waited.state = Lane::State::kIdle;
            MakeReady(h, ws, waited);
            Dispatch(h);
          });
    }
    Dispatch(h);
  }

  // The hook is done with the lane's front event. `lane` may be gone afterwards.
  void FinishFront(size_t h, const std::string& ws, Lane& lane) {
    uint64_t seq = lane.seqs.front();
    lane.seqs.pop_front();
    lane.failures = 0;
    lane.state = Lane::State::kIdle;
    if (lane.seqs.empty()) {
      hooks[h]->lanes.erase(ws);
    } else {
      MakeReady(h, ws, lane);
    }
    if (--buffered.at(seq).hooks_left == 0) RequestPump();
  }

  // The backlog for Stats: how many events are buffered and the oldest one's time.
  void CountPending() {
    pending = buffered.size();
    oldest_pending = buffered.empty() ? 0 : buffered.begin()->second.time;
  }

  // Acknowledges every event up to the first one some hook is not done with. An
  // acknowledgement is a durable write competing with the API's, so it happens at most
  // once per poll interval (or when many events are done, or at `force`): redelivery
  // after a crash is allowed, and the outbox only grows by what one interval queued.
  void Acknowledge(bool force = false) {
    while (!buffered.empty() && buffered.begin()->second.hooks_left == 0) {
      finished_up_to = buffered.begin()->first;
      buffered.erase(buffered.begin());
    }
    CountPending();
    if (finished_up_to <= acknowledged) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ack < options.poll_interval &&
        finished_up_to - acknowledged < kAckAtLeast) {
      return;
    }
    last_ack = now;
    Status s = engine->AckEvents(finished_up_to);
    if (!s.ok()) {  // tried again at the next pump
      Report(LogLevel::kWarn, "acknowledging delivered events: " + s.ToString());
      return;
    }
    acknowledged = finished_up_to;
  }

  void Poll() {
    poll_timer.expires_after(options.poll_interval);
    poll_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      Pump();
      Poll();
    });
  }

  void Reconfigure(std::vector<Webhook> configs) {
    std::vector<Webhook> running;
    for (const auto& hook : hooks) running.push_back(hook->config);
    if (configs == running) return;
    generation++;
    for (const auto& hook : hooks) draining += hook->in_flight;
    SetHooks(std::move(configs));  // their lanes' timers are cancelled
    buffered.clear();
    read_after = finished_up_to;
    Pump();
  }

  // Whether this node delivers now. On a change: standing down drops every event read
  // (answers still to come are ignored, as after a Reconfigure); starting over reads
  // from the oldest event the store still holds, i.e. not acknowledged by any node.
  bool Lead() {
    const bool now = !options.leads || options.leads();
    if (now == leading) return now;
    leading = now;
    generation++;
    for (const auto& hook : hooks) {
      draining += hook->in_flight;
      hook->in_flight = 0;
      hook->ready.clear();
      hook->lanes.clear();  // their backoff timers are cancelled
    }
    buffered.clear();
    read_after = 0;
    finished_up_to = 0;
    CountPending();
    Report(LogLevel::kInfo,
           now ? "webhook delivery: this node delivers now, from the "
                 "oldest event not acknowledged"
               : "webhook delivery: standing by (another node delivers)");
    return now;
  }
  bool leading = false;

  void Report(LogLevel level, const std::string& message) {
    if (log) log(level, message);
  }

  // ---- from any thread --------------------------------------------------------------

  void RequestPump() {
    if (pump_requested.exchange(true)) return;
    asio::post(io, [this] {
      pump_requested = false;
      Pump();
    });
  }

  static constexpr uint64_t kAckAtLeast = 10000;  // events done: acknowledge now
  std::chrono::steady_clock::time_point last_ack{};

  Engine* const engine;
  const Log log;
  const EventDeliveryOptions options;

  // Declared first of the loop's objects: destroyed after every timer and socket.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::steady_timer poll_timer{io};
  std::thread thread;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::atomic<bool> pump_requested{false};

  // Loop state.
  std::vector<std::unique_ptr<Hook>> hooks;  // by pointer: a Hook does not move
  // Read by Notify on any thread: with no webhook, a write does not wake the loop
  // (the poll still acknowledges the outbox).
  std::atomic<bool> has_hooks{false};
  std::map<uint64_t, Buffered> buffered;
  uint64_t read_after = 0;      // the last seq read from the outbox
  uint64_t finished_up_to = 0;  // every hook is done with every event up to here
  uint64_t generation = 0;
  size_t draining = 0;  // requests of older generations still in flight

  // Counters.
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed_attempts{0};
  std::atomic<uint64_t> given_up{0};
  std::atomic<uint64_t> pending{0};
  std::atomic<TimeMs> oldest_pending{0};
  std::atomic<uint64_t> acknowledged{0};
};

EventDelivery::EventDelivery(Engine* engine, std::vector<Webhook> hooks, Log log,
                             EventDeliveryOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(hooks), std::move(log), options)) {}

EventDelivery::~EventDelivery() { Stop(); }

void EventDelivery::Start() {
  if (impl_->started.exchange(true) || impl_->stopped) return;
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] {
    impl->Pump();
    impl->Poll();
  });
  impl->thread = std::thread([impl] { impl->io.run(); });
  NameThread(impl->thread, "trashd-hooks");
}

void EventDelivery::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->Acknowledge(/*force=*/true);  // here, now that the loop thread is gone
}

void EventDelivery::Notify() {
  if (impl_->has_hooks.load(std::memory_order_relaxed)) impl_->RequestPump();
}

void EventDelivery::Reconfigure(std::vector<Webhook> hooks) {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl, hooks = std::move(hooks)]() mutable {
    impl->Reconfigure(std::move(hooks));
  });
}

DeliveryStats EventDelivery::Stats() const {
  DeliveryStats s;
  s.delivered = impl_->delivered;
  s.failed_attempts = impl_->failed_attempts;
  s.given_up = impl_->given_up;
  s.pending = impl_->pending;
  s.oldest_pending_time = impl_->oldest_pending;
  s.acknowledged_seq = impl_->acknowledged;
  return s;
}

}  // namespace trashd
