// The crash loop's model (tests/reliability): what the driver knows about each
// workspace it writes to, built only from answers the daemon gave.
//
// Each client thread owns one workspace and is the only writer of its projects, so
// its acknowledged operations apply to its model in order. The one operation a
// client had in flight when the daemon was killed is `pending`: it may have been
// applied or not, and the check after the restart decides which from what the daemon
// shows, refusing anything in between. Sweeps (the operator's and the daemon's own)
// may purge a trashed project once the daemon's clock could have reached its
// scheduledCleanupAt, never earlier.
//
// Not thread-safe: a client thread and the main thread take turns (the main thread
// reads and fixes the model only while no client runs).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "trashd/clock.h"

namespace trashd::reliability {

// The workspaces' retention: the shortest there is, so clock moves expire items.
constexpr int kRetentionDays = 1;

enum class State { kNone, kActive, kTrashed, kPurged };
const char* StateName(State s);

struct Image {
  std::string name;
  std::string hash;  // hex SHA-256 of the content: unique per upload
  uint64_t bytes = 0;
};

struct Project {
  std::string name;
  std::string slug;
  std::string id;  // empty until the daemon has answered (or shown) it
  State state = State::kNone;
  TimeMs due_min = 0;  // trashed: the earliest its scheduledCleanupAt can be
  std::vector<Image> images;
  // Events the outbox must hold for it: one per applied trash, restore and purge.
  uint64_t trash_events = 0;
  uint64_t restore_events = 0;
  uint64_t purge_events = 0;
};

enum class OpKind { kCreate, kUpload, kTrash, kRestore, kPurge, kEmpty };
const char* OpName(OpKind k);

// The operation a client had sent when the daemon died, its answer unknown.
struct PendingOp {
  OpKind kind = OpKind::kCreate;
  size_t project = 0;  // index in Workspace::projects (not for kEmpty)
  Image image;         // kUpload
  TimeMs due_min = 0;  // kTrash: as Project::due_min, had it been applied
};

struct WorkspaceModel {
  std::string ws;
  std::string key;  // an owner's API key
  std::vector<Project> projects;
  std::optional<PendingOp> pending;
  uint64_t next_name = 0;
  uint64_t acknowledged = 0;  // operations the daemon answered 2xx
  std::vector<std::string> failures;
};

// The daemon's clock as the driver moves it: the system clock plus an offset that
// only grows, written to the file the daemon reads (TRASHD_TEST_CLOCK_FILE).
class DriverClock {
 public:
  explicit DriverClock(std::string path);
  // Moves the daemon's clock forward by `by`. One thread at a time.
  void Advance(TimeMs by);
  // Bounds of what the daemon's clock reads now (they differ while a move is being
  // written).
  TimeMs NowAtLeast() const { return SystemClock().Now() + low_.load(); }
  TimeMs NowAtMost() const { return SystemClock().Now() + high_.load(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::atomic<TimeMs> low_{0};   // set after the file is replaced
  std::atomic<TimeMs> high_{0};  // set before
};

// Whether a project trashed with `due_min` may have been swept by now.
inline bool MaybeDue(TimeMs due_min, const DriverClock& clock) {
  return due_min > 0 && clock.NowAtMost() >= due_min;
}

// A seeded random source, one per thread.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : gen_() % n; }
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  std::string Bytes(size_t n);

 private:
  std::mt19937_64 gen_;
};

}  // namespace trashd::reliability
