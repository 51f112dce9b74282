#include "reliability/checks.h"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/eventually.h"
#include "util/crypto.h"

namespace trashd::reliability {

namespace json = boost::json;
namespace fs = std::filesystem;

void EventLedger::Record(const std::string& event_id, Key key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.insert(event_id).second) ++counts_[std::move(key)];
}

std::map<EventLedger::Key, uint64_t> EventLedger::Counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void EventLedger::Settle(const std::vector<Key>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Key& key : keys) counts_.erase(key);
}

namespace {

// What the daemon shows of a project.
struct Observed {
  State state = State::kNone;  // kActive, kTrashed, or kNone: not there at all
  std::string id;
  uint64_t images = 0;  // active
  uint64_t size = 0;    // trashed: what a purge would free
};

std::string Said(const Answer& a) {
  return a.unknown() || !a.sent
             ? std::string("no answer")
             : std::to_string(a.response.status) + " " + a.response.body;
}

bool Observe(const WorkspaceModel& m, const Project& p, const Endpoint& e,
             ApiConnection& api, Observed* o, std::string* error) {
  Answer active = CallApi(api, "GET", "/" + m.ws + "/" + p.slug, m.key);
  if (!active.sent || active.unknown()) {  // a read: ask once more on a new connection
    active = CallApi(api, "GET", "/" + m.ws + "/" + p.slug, m.key);
  }
  if (active.response.status == 200) {
    json::value v = active.response.Json().at("project");
    o->state = State::kActive;
    o->id = std::string(v.at("projectId").as_string());
    o->images = v.at("images").to_number<uint64_t>();
    if (p.id.empty() || o->id == p.id) return true;
    *error = "its url names another project, " + o->id;
    return false;
  }
  if (active.response.status != 404) {
    *error = "GET answered " + Said(active);
    return false;
  }
  if (p.id.empty()) return true;  // never created, or not yet answered
  Answer trashed =
      CallAdmin(e, "GET", "/v1/workspaces/" + m.ws + "/trash/project/" + p.id);
  if (trashed.response.status == 200) {
    o->state = State::kTrashed;
    o->size = trashed.response.Json().at("item").at("size").to_number<uint64_t>();
    return true;
  }
  if (trashed.response.status != 404) {
    *error = "trash show answered " + Said(trashed);
    return false;
  }
  return true;
}

uint64_t ImageBytes(const Project& p) {
  uint64_t bytes = 0;
  for (const Image& i : p.images) bytes += i.bytes;
  return bytes;
}

// Folds what the daemon shows of project `i` into the model: its state, or what the
// operation in flight would have made it; anything else is a failure.
class Resolver {
 public:
  Resolver(WorkspaceModel& m, const DriverClock& clock,
           std::vector<std::string>* failures)
      : m_(m), clock_(clock), failures_(failures) {}

  // Whether the operation in flight was applied to some project.
  bool applied() const { return applied_; }

  void Resolve(size_t i, const Observed& o) {
    Project& p = m_.projects[i];
    op_ = nullptr;
    if (m_.pending && (m_.pending->kind == OpKind::kEmpty ? p.state == State::kTrashed
                                                          : m_.pending->project == i)) {
      op_ = &*m_.pending;
    }
    if (o.state == State::kActive) return Active(p, o);
    if (o.state == State::kTrashed) return Trashed(p, o);
    return Gone(p);
  }

 private:
  bool InFlight(OpKind k) const { return op_ && op_->kind == k; }

  void Fail(const Project& p, const std::string& why) {
    std::string in_flight = op_ ? std::string(", in flight: ") + OpName(op_->kind) : "";
    failures_->push_back(m_.ws + "/" + p.name + " (" + p.id + "): " + why +
                         " (model: " + StateName(p.state) + in_flight + ")");
  }

  void Active(Project& p, const Observed& o) {
    if (p.state == State::kActive) {
      size_t n = p.images.size();
      if (InFlight(OpKind::kUpload) && o.images == n + 1) {
        p.images.push_back(op_->image);
        applied_ = true;
      } else if (o.images != n) {
        Fail(p, "shows " + std::to_string(o.images) + " images, the model " +
                    std::to_string(n));
      }
    } else if (p.state == State::kNone && InFlight(OpKind::kCreate)) {
      p.id = o.id;
      p.state = State::kActive;
      applied_ = true;
    } else if (p.state == State::kTrashed && InFlight(OpKind::kRestore)) {
      p.state = State::kActive;
      p.due_min = 0;
      ++p.restore_events;
      applied_ = true;
    } else {
      Fail(p, "is active");
    }
  }

  void Trashed(Project& p, const Observed& o) {
    if (p.state == State::kActive && InFlight(OpKind::kTrash)) {
      p.state = State::kTrashed;
      p.due_min = op_->due_min;
      ++p.trash_events;
      applied_ = true;
    } else if (p.state != State::kTrashed) {
      return Fail(p, "is in the Trash");
    }
    if (o.size != ImageBytes(p)) {
      Fail(p, "has size " + std::to_string(o.size) + " in the Trash, its images " +
                  std::to_string(ImageBytes(p)) + " bytes");
    }
  }

  void Purged(Project& p) {
    p.state = State::kPurged;
    ++p.purge_events;
  }

  void Gone(Project& p) {
    if (p.state == State::kPurged || p.state == State::kNone) return;
    if (p.state == State::kTrashed) {
      if (InFlight(OpKind::kPurge) || InFlight(OpKind::kEmpty)) {
        applied_ = true;
        return Purged(p);
      }
      if (MaybeDue(p.due_min, clock_)) return Purged(p);  // a sweep took it
      return Fail(p, "is gone, though not due yet and not purged by anyone");
    }
    if (InFlight(OpKind::kTrash) && MaybeDue(op_->due_min, clock_)) {
      ++p.trash_events;  // trashed, then swept
      applied_ = true;
      return Purged(p);
    }
    Fail(p, "is gone");
  }

  WorkspaceModel& m_;
  const DriverClock& clock_;
  std::vector<std::string>* failures_;
  const PendingOp* op_ = nullptr;
  bool applied_ = false;
};

// An empty-trash in flight purges the items it found all in one transaction: of the
// items no sweep could have taken, either all went or none.
void CheckEmptyWhole(const WorkspaceModel& m, const std::vector<State>& before,
                     const DriverClock& clock, std::vector<std::string>* failures) {
  if (!m.pending || m.pending->kind != OpKind::kEmpty) return;
  size_t kept = 0, purged = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    const Project& p = m.projects[i];
    if (before[i] != State::kTrashed || MaybeDue(p.due_min, clock)) continue;
    (p.state == State::kPurged ? purged : kept)++;
  }
  if (kept > 0 && purged > 0) {
    failures->push_back(m.ws + ": an empty-trash in flight was half applied (" +
                        std::to_string(purged) + " purged, " + std::to_string(kept) +
                        " kept)");
  }
}

void ResolveWorkspace(WorkspaceModel& m, const Endpoint& e, const DriverClock& clock,
                      CheckTotals* totals, std::vector<std::string>* failures) {
  Resolver resolver(m, clock, failures);
  ApiConnection api(e.port);
  std::vector<State> before;
  for (size_t i = 0; i < m.projects.size(); ++i) {
    before.push_back(m.projects[i].state);
    Observed o;
    std::string error;
    if (!Observe(m, m.projects[i], e, api, &o, &error)) {
      failures->push_back(m.ws + "/" + m.projects[i].name + ": " + error);
      continue;
    }
    resolver.Resolve(i, o);
  }
  CheckEmptyWhole(m, before, clock, failures);
  if (m.pending) {
    (resolver.applied() ? totals->applied_in_flight : totals->not_applied_in_flight)++;
  }
  m.pending.reset();
  std::erase_if(m.projects, [](const Project& p) { return p.state == State::kNone; });
}

// The Trash lists exactly the projects the model has there.
void CheckTrashList(const WorkspaceModel& m, const Endpoint& e,
                    std::vector<std::string>* failures) {
  Answer a = CallAdmin(e, "GET", "/v1/workspaces/" + m.ws + "/trash?limit=10000");
  if (a.response.status != 200) {
    failures->push_back(m.ws + ": trash list answered " + Said(a));
    return;
  }
  std::set<std::string> listed, expected;
  json::value page = a.response.Json();
  for (const json::value& item : page.at("items").as_array()) {
    listed.insert(std::string(item.at("internalId").as_string()));
  }
  for (const Project& p : m.projects) {
    if (p.state == State::kTrashed) expected.insert(p.id);
  }
  if (listed != expected) {
    failures->push_back(m.ws + ": the Trash lists " + std::to_string(listed.size()) +
                        " items, the model has " + std::to_string(expected.size()));
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every blob the model expects is there with its content, and no other file is in
// the data directory's folders (a blob orphaned, a temp file left behind).
void CheckBlobs(const std::vector<WorkspaceModel>& models, const std::string& data_dir,
                std::vector<std::string>* failures) {
  std::map<std::string, std::string> expected;  // hash -> workspace
  for (const WorkspaceModel& m : models) {
    for (const Project& p : m.projects) {
      if (p.state != State::kActive && p.state != State::kTrashed) continue;
      for (const Image& i : p.images) expected[i.hash] = m.ws;
    }
  }
  std::set<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(data_dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file() || it->path().parent_path() == fs::path(data_dir))
      continue;
    std::string name = it->path().filename().string();
    if (name == "data.mdb" || name == "lock.mdb") continue;  // the store itself
    std::string relative = fs::relative(it->path(), data_dir).string();
    auto want = expected.find(name);
    if (want == expected.end() ||
        relative.find(want->second + "/") == std::string::npos) {
      failures->push_back("orphaned file " + relative);
      continue;
    }
    if (crypto::Sha256Hex(ReadFile(it->path())) != name) {
      failures->push_back("blob " + relative + " does not hold its content");
    }
    found.insert(name);
  }
  for (const auto& [hash, ws] : expected) {
    if (!found.count(hash)) failures->push_back(ws + ": blob " + hash + " is missing");
  }
}

// The outbox delivered one event per applied trash, restore and purge, and no more.
void CheckEvents(const std::vector<WorkspaceModel>& models, const EventLedger& events,
                 std::vector<std::string>* failures) {
  std::map<EventLedger::Key, uint64_t> want;
  for (const WorkspaceModel& m : models) {
    for (const Project& p : m.projects) {
      if (p.id.empty()) continue;
      if (p.trash_events) want[{m.ws, p.id, "trash"}] = p.trash_events;
      if (p.restore_events) want[{m.ws, p.id, "restore"}] = p.restore_events;
      if (p.purge_events) want[{m.ws, p.id, "purge"}] = p.purge_events;
    }
  }
  auto all_there = [&] {
    std::map<EventLedger::Key, uint64_t> got = events.Counts();
    for (const auto& [key, n] : want) {
      auto it = got.find(key);
      if (it == got.end() || it->second < n) return false;
    }
    return true;
  };
  testing::Eventually(all_there, std::chrono::seconds(30));
  std::map<EventLedger::Key, uint64_t> got = events.Counts();
  std::set<EventLedger::Key> keys;
  for (const auto& [key, n] : want) keys.insert(key);
  for (const auto& [key, n] : got) keys.insert(key);
  for (const EventLedger::Key& key : keys) {
    uint64_t w = want.count(key) ? want.at(key) : 0;
    uint64_t g = got.count(key) ? got.at(key) : 0;
    if (w == g) continue;
    const auto& [ws, id, type] = key;
    failures->push_back(ws + "/" + id + ": " + std::to_string(g) + " " + type +
                        " events delivered, " + std::to_string(w) + " expected");
  }
}

// Purged projects leave the model, and their events the ledger's counts.
void Settle(std::vector<WorkspaceModel>& models, EventLedger& events) {
  std::vector<EventLedger::Key> keys;
  for (WorkspaceModel& m : models) {
    for (const Project& p : m.projects) {
      if (p.state != State::kPurged) continue;
      for (const char* type : {"trash", "restore", "purge"})
        keys.emplace_back(m.ws, p.id, type);
    }
    std::erase_if(m.projects, [](const Project& p) { return p.state == State::kPurged; });
  }
  events.Settle(keys);
}

void CheckEverything(std::vector<WorkspaceModel>& models, const Endpoint& e,
                     const std::string& data_dir, const DriverClock& clock,
                     EventLedger& events, CheckTotals* totals,
                     std::vector<std::string>* failures);

}  // namespace

void CheckAfterRestart(std::vector<WorkspaceModel>& models, const Endpoint& e,
                       const std::string& data_dir, const DriverClock& clock,
                       EventLedger& events, CheckTotals* totals,
                       std::vector<std::string>* failures) {
  try {
    CheckEverything(models, e, data_dir, clock, events, totals, failures);
  } catch (const std::exception& ex) {  // an answer not shaped as documented
    failures->push_back(std::string("an answer could not be read: ") + ex.what());
  }
  if (failures->empty()) Settle(models, events);
}

namespace {

void CheckEverything(std::vector<WorkspaceModel>& models, const Endpoint& e,
                     const std::string& data_dir, const DriverClock& clock,
                     EventLedger& events, CheckTotals* totals,
                     std::vector<std::string>* failures) {
  for (WorkspaceModel& m : models) {
    ResolveWorkspace(m, e, clock, totals, failures);
    CheckTrashList(m, e, failures);
  }
  Answer fsck = CallAdmin(e, "GET", "/v1/fsck");
  if (fsck.response.status != 200) failures->push_back("fsck: " + Said(fsck));
  CheckBlobs(models, data_dir, failures);
  CheckEvents(models, events, failures);
}

}  // namespace
}  // namespace trashd::reliability
