// EventDelivery: carries the engine's outbox (SPEC §7) to the configured webhooks.
//
// What a receiver gets: each event POSTed as one JSON object (DeliveryBody)
//   {"id": "evt_12", "seq": 12, "type": "trash", "workspace": "acme",
//    "time": "2026-04-20T17:05:33.000Z", "data": {...the event's payload...}}
// with headers `X-Trashd-Event-Id: evt_12`, `X-Trashd-Event-Type: trash` and, when
// the hook has a secret, `X-Trashd-Signature: sha256=<hex HMAC-SHA256 of the body
// under the secret>`. Any 2xx answer is success.
//
// Guarantees:
//   - At least once. The outbox is acknowledged (Engine::AckEvents) only up to the
//     highest seq that every hook has finished with, every earlier event included:
//     delivered, given up, or not of a type the hook takes. After a restart or a
//     crash the events not acknowledged yet are delivered again, so a receiver may
//     see an event twice and de-duplicates by its id.
//   - In order per workspace and hook: a hook gets a workspace's next event only once
//     the one before succeeded or was given up. Each (hook, workspace) goes on its
//     own, so a workspace whose events fail (or a slow answer) holds back neither
//     other workspaces nor other hooks, up to max_buffered_events: events are read
//     from the outbox in order and stay buffered until acknowledged.
//   - Retries: a failed attempt (no answer, or not 2xx) is retried after
//     backoff_initial_ms, doubling up to backoff_max_ms; after max_attempts the event
//     is given up for that hook, with a warning in the log.
//   - With no webhook configured every event is acknowledged as it is read, so the
//     outbox does not grow forever (the daemon then queues none: EventTypesTaken;
//     what is read is what was queued before a reload removed the hooks).
//
// Several nodes (EventDeliveryOptions::leads): only the node holding the webhooks
// lease delivers and acknowledges; the others read nothing. A node that stops leading
// drops what it had read (requests in flight are abandoned, nothing more is
// acknowledged); one that starts leading begins at the oldest event not acknowledged
// in the store. So across a change of leader every event is delivered, in order per
// workspace; the events the old leader delivered after its last acknowledgement go
// again (at least once), and the old leader stands down before the lease can pass.
//
// Reconfigure (SIGHUP) with other webhooks starts over from the oldest event not
// acknowledged, once the requests in flight have ended: a hook may get again what
// it got since the last acknowledgement.
//
// Threads: one background thread runs an event loop; it reads the outbox, makes the
// requests and acknowledges. Every public method may be called from any thread. The
// engine, and the log function (called on the background thread), must outlive the
// EventDelivery.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.h"
#include "engine/engine.h"

namespace trashd {

struct EventDeliveryOptions {
  // The outbox is read at least this often, Notify() or not.
  std::chrono::milliseconds poll_interval{1000};
  // One attempt: connect, send, and the answer's headers.
  std::chrono::milliseconds request_timeout{10000};
  // Requests in flight at once to one hook (one per workspace at most).
  size_t max_in_flight_per_hook = 8;
  // Events read from the outbox and not yet acknowledged, at most.
  size_t max_buffered_events = 10000;
  // Whether this node delivers now (it holds the webhooks lease); asked before every
  // read and request. Null: always (one node alone).
  std::function<bool()> leads;
};

// Counters since Start(), for /metrics. Per (event, hook) pair, but `pending`.
struct DeliveryStats {
  uint64_t delivered = 0;          // answered 2xx
  uint64_t failed_attempts = 0;    // answered otherwise, or not at all
  uint64_t given_up = 0;           // failed max_attempts times
  uint64_t pending = 0;            // events read from the outbox, not yet acknowledged
  uint64_t acknowledged_seq = 0;   // the outbox is acknowledged up to here
  TimeMs oldest_pending_time = 0;  // when the oldest pending event was queued; 0: none
};

// The body POSTed for `event`. An event whose payload is not JSON (never queued by
// trashd) carries it as a string in "data".
std::string DeliveryBody(const Event& event);
// The X-Trashd-Signature value for `body` under `secret`: "sha256=<hex>".
std::string DeliverySignature(std::string_view secret, std::string_view body);
// The event types some hook of `hooks` takes, for Engine::SetQueuedEventTypes:
// std::nullopt (every type) when one takes all, none when there is no hook. An event
// no hook takes would only be read and acknowledged, so it is not written at all.
std::optional<std::set<std::string>> EventTypesTaken(const std::vector<Webhook>& hooks);

class EventDelivery {
 public:
  using Log = std::function<void(LogLevel level, std::string_view message)>;

  EventDelivery(Engine* engine, std::vector<Webhook> hooks, Log log,
                EventDeliveryOptions options = {});
  ~EventDelivery();  // Stop()
  EventDelivery(const EventDelivery&) = delete;
  EventDelivery& operator=(const EventDelivery&) = delete;

  // Starts the background thread, which reads the outbox at once. Once only.
  void Start();
  // Stops at once: requests in flight are abandoned (their events were not
  // acknowledged, so they go again after a restart), what every hook has finished
  // with is acknowledged, the thread is joined. Idempotent.
  void Stop();
  // New events were committed: read the outbox now rather than at the next poll.
  // Does nothing while no webhook is configured.
  void Notify();
  // The webhooks from a reloaded configuration. The same list as now changes nothing.
  void Reconfigure(std::vector<Webhook> hooks);
  DeliveryStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trashd
