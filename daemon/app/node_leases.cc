#include "app/node_leases.h"

#include <unistd.h>

#include <climits>

#include "util/thread_name.h"

namespace trashd {

std::string DefaultNodeId() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    return "node-" + std::to_string(getpid());
  }
  return std::string(host) + "-" + std::to_string(getpid());
}

NodeLeases::NodeLeases(Engine* engine, const Clock* wall, NodeLeasesOptions options,
                       Log log)
    : engine_(engine), wall_(wall), options_(std::move(options)), log_(std::move(log)) {
  for (const std::string& name : options_.names) states_[name];
}

NodeLeases::~NodeLeases() { Stop(); }

void NodeLeases::OnChange(Changed fn) { changed_.push_back(std::move(fn)); }

void NodeLeases::Start() {
  if (options_.alone) return;
  ClaimAll();
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, options_.renew);
      if (stopping_) break;
      lock.unlock();
      ClaimAll();
      lock.lock();
    }
  });
  NameThread(thread_, "trashd-leases");
}

void NodeLeases::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (options_.alone) return;
  for (const std::string& name : options_.names) {
    LeaseHold hold = Hold(name);
    if (!hold.fence) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      states_[name].held = false;  // from now on, whether the release commits or not
    }
    Status s = engine_->ReleaseLease(*hold.fence);
    if (log_) {
      log_(s.ok() ? LogLevel::kInfo : LogLevel::kWarn,
           "lease " + name +
               (s.ok() ? " given up (stopping)"
                       : " not given up: " + s.ToString() +
                             "; another node takes it once it expires"));
    }
  }
}

bool NodeLeases::HeldNow(const State& state) const {
  return state.held && std::chrono::steady_clock::now() < state.valid_until;
}

LeaseHold NodeLeases::Hold(const std::string& name) const {
  if (options_.alone) return LeaseHold{true, std::nullopt};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(name);
  if (it == states_.end() || !HeldNow(it->second)) return {};
  return LeaseHold{true, LeaseClaim{name, options_.node_id, it->second.seen.epoch}};
}

std::vector<LeaseView> NodeLeases::Views() const {
  std::vector<LeaseView> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, state] : states_) {
    if (options_.alone) {
      out.push_back({name, true, options_.node_id, 0});
    } else {
      out.push_back({name, HeldNow(state), state.seen.holder, state.seen.epoch});
    }
  }
  return out;
}

void NodeLeases::ClaimAll() {
  for (const std::string& name : options_.names) Claim(name);
}

void NodeLeases::Lose(const std::string& name, State& state, const std::string& why) {
  state.held = false;
  if (log_) {
    log_(LogLevel::kInfo, "lease " + name + " lost (epoch " +
                              std::to_string(state.seen.epoch) + "): " + why);
  }
}

void NodeLeases::Claim(const std::string& name) {
  using std::chrono::steady_clock;
  const steady_clock::time_point asked = steady_clock::now();
  Result<LeaseRecord> got = engine_->ClaimLease(
      name, options_.node_id, wall_->Now(), static_cast<TimeMs>(options_.ttl.count()));
  std::optional<bool> change;  // took (true) or lost (false) the lease
  {
    std::lock_guard<std::mutex> lock(mu_);
    State& state = states_[name];
    const bool was_held = HeldNow(state);
    const uint64_t was_epoch = state.seen.epoch;
    if (!got.ok()) {
      // Kept until it lapses here; then it is lost, whatever the store says later.
      if (state.held && !was_held) {
        Lose(name, state, "not renewed in time: " + got.status().ToString());
        change = false;
      }
    } else {
      state.seen = *got;
      if (got->holder == options_.node_id) {
        // Released or taken over and taken back meanwhile: a new epoch.
        if (was_held && was_epoch != got->epoch)
          Lose(name, state, "taken over meanwhile");
        state.held = true;
        state.valid_until = asked + (options_.ttl - options_.renew);
        if (!was_held || was_epoch != got->epoch) {
          if (log_) {
            log_(LogLevel::kInfo, "lease " + name + " taken by this node (" +
                                      options_.node_id + ", epoch " +
                                      std::to_string(got->epoch) + ")");
          }
          change = true;
        }
      } else if (state.held) {
        Lose(name, state,
             "node " + got->holder + " holds it (epoch " + std::to_string(got->epoch) +
                 ")");
        change = false;
      }
    }
  }
  if (change) {
    for (const Changed& fn : changed_) fn(name, *change);
  }
}

}  // namespace trashd
