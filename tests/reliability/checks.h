// The crash loop's checks after a restart (tests/reliability): what the daemon shows
// must be what the model holds, the operation each client had in flight applied
// wholly or not at all; fsck clean; every blob file the model expects present with
// its content and no other file under the data directory's folders; and the outbox
// delivered an event for every trash, restore and purge that was applied, and none
// for anything else.
//
// Runs while nothing else writes: the clients are stopped and every workspace is
// under a hold, so no sweep purges anything while it looks.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "reliability/crash_model.h"
#include "reliability/workload.h"

namespace trashd::reliability {

// The events a webhook received, each counted once by its id (delivery is at least
// once). Counts of settled keys (purged projects, checked) are dropped, so the counts
// stay as small as the model; an event that comes later for one counts again, and is
// then one too many. Thread-safe.
class EventLedger {
 public:
  // (workspace, internal id, event type)
  using Key = std::tuple<std::string, std::string, std::string>;
  void Record(const std::string& event_id, Key key);
  std::map<Key, uint64_t> Counts() const;
  void Settle(const std::vector<Key>& keys);

 private:
  mutable std::mutex mu_;
  std::set<std::string> seen_;
  std::map<Key, uint64_t> counts_;
};

struct CheckTotals {
  uint64_t applied_in_flight = 0;      // pending operations the daemon had applied
  uint64_t not_applied_in_flight = 0;  // and those it had not
};

// Resolves every model's pending operation from what the daemon shows and checks
// everything above; appends what is wrong to `failures`. When nothing is, the purged
// projects leave the model and their events are settled.
void CheckAfterRestart(std::vector<WorkspaceModel>& models, const Endpoint& e,
                       const std::string& data_dir, const DriverClock& clock,
                       EventLedger& events, CheckTotals* totals,
                       std::vector<std::string>* failures);

}  // namespace trashd::reliability
