// NodeLeases: the leases (core/lease/lease.h) this process takes and keeps when
// several trashd nodes share one PostgreSQL store, so that the daily sweep (with the
// `expiring` notices) and webhook delivery each run on one node at a time.
//
// A background thread asks for every lease each `renew` period (Engine::ClaimLease):
// it renews the ones this node holds and takes over any that expired. This node counts
// a lease as held until `ttl - renew` after the start of its last successful renewal,
// by its own steady clock: a renewal that fails (the database is away) lets the lease
// lapse here a full renew period before another node can take it (ttl after that
// renewal, by the taker's clock). The work done under a lease checks its epoch in its
// own transactions anyway (SweepOptions::lease), so a node that is late to notice
// cannot purge. Taking and losing a lease are logged at info; Stop gives up what this
// node holds, so a restart hands over at once.
//
// Alone (LMDB: one process), no lease is stored: this node holds every lease, always,
// and there is no epoch to check (Hold().fence is empty).
//
// Thread-safety: every public method may be called from any thread; the change
// callbacks run on the background thread. The engine must outlive the NodeLeases.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"

namespace trashd {

inline constexpr char kSweepLease[] = "sweep";
inline constexpr char kWebhooksLease[] = "webhooks";

struct NodeLeasesOptions {
  std::string node_id;
  std::vector<std::string> names{kSweepLease, kWebhooksLease};
  std::chrono::milliseconds ttl{15000};
  std::chrono::milliseconds renew{5000};  // less than ttl
  bool alone = false;                     // one process on LMDB: nothing stored
};

// Whether this node holds a lease now, and the claim its transactions check.
struct LeaseHold {
  bool held = false;
  std::optional<LeaseClaim> fence;  // empty when alone, or not held
};

// A lease as this node last saw it, for /metrics and the status.
struct LeaseView {
  std::string name;
  bool held = false;   // by this node, now
  std::string holder;  // as last read: this node or another; "" none
  uint64_t epoch = 0;
};

// "<hostname>-<pid>": the node id when node.id is "".
std::string DefaultNodeId();

class NodeLeases {
 public:
  using Log = std::function<void(LogLevel level, const std::string& line)>;
  // Called on take (true) and loss (false) of a lease, on the background thread.
  using Changed = std::function<void(const std::string& name, bool held)>;

  // `wall` dates the lease records (the real clock, not a test clock: the nodes
  // compare expiry times); it must outlive this.
  NodeLeases(Engine* engine, const Clock* wall, NodeLeasesOptions options, Log log);
  ~NodeLeases();  // Stop()
  NodeLeases(const NodeLeases&) = delete;
  NodeLeases& operator=(const NodeLeases&) = delete;

  // Before Start.
  void OnChange(Changed fn);
  // Claims every lease once (so a node alone holds them before its work starts), then
  // keeps them on the background thread.
  void Start();
  // Stops renewing and gives up every lease held. Idempotent.
  void Stop();

  LeaseHold Hold(const std::string& name) const;
  std::vector<LeaseView> Views() const;
  const std::string& node_id() const { return options_.node_id; }
  bool alone() const { return options_.alone; }
  std::chrono::milliseconds renew() const { return options_.renew; }

 private:
  struct State {
    LeaseRecord seen;  // as last read
    bool held = false;
    std::chrono::steady_clock::time_point valid_until{};
  };
  void ClaimAll();
  void Claim(const std::string& name);
  void Lose(const std::string& name, State& state, const std::string& why);
  bool HeldNow(const State& state) const;

  Engine* engine_;
  const Clock* wall_;
  const NodeLeasesOptions options_;
  const Log log_;
  std::vector<Changed> changed_;

  mutable std::mutex mu_;  // guards the fields below
  std::map<std::string, State> states_;
  bool stopping_ = false;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace trashd
