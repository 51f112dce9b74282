// Property test (Q4, P1, S1): a long seeded run of random engine operations over two
// workspaces, checked against a small model of what a user can observe.
//
// The model knows which resources exist, which are in the Trash and with which item
// they travel, their assets, jobs and serving flags, the holds and quotas. After every
// operation the usage counters must match the assets the workspaces store; every 1,000
// operations and at the end, fsck must find nothing, nothing purged may be reachable,
// and the blob files on disk must be exactly the assets the workspaces still store.
//
// A refusal is fine where the rules call for one; it must carry the fitting code and
// never Internal. Reproduce a failure with TRASHD_PROPERTY_SEED=<seed> (printed with
// every failure); TRASHD_PROPERTY_OPS=<n> shortens the run while minimising it and
// TRASHD_PROPERTY_TRACE=1 prints every operation.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "support/test_env.h"
#include "util/crypto.h"

namespace trashd {
namespace {

namespace fs = std::filesystem;
using testing::TestEnv;

constexpr uint64_t kDefaultSeed = 20260420;
constexpr int kOperations = 10000;
constexpr int kCheckEvery = 1000;
constexpr size_t kContentPool = 24;
constexpr size_t kMaxContentBytes = 512;
constexpr size_t kNone = static_cast<size_t>(-1);
constexpr int kWorkspaceCount = 2;

const char* const kWorkspaceSlugs[kWorkspaceCount] = {"acme", "globex"};
constexpr int kRetentionDays[kWorkspaceCount] = {30, 7};
const char* const kMemberIds[] = {"alice", "bob"};
const char* const kMemberNames[] = {"Alice", "Bob"};

// Fails the test case with the run's context (seed, operation, recent operations),
// building the message only when the condition does not hold.
#define RUN_EXPECT(cond, msg)     \
  do {                            \
    if (!(cond)) {                \
      std::ostringstream run_os_; \
      run_os_ << msg;             \
      Fail(run_os_.str());        \
    }                             \
  } while (0)

enum class Life { kActive, kTrashed, kPurged };

struct ModelResource {
  std::string id;
  std::string public_id;
  int ws = 0;
  std::string type;
  size_t parent = kNone;  // kNone: the workspace
  std::string slug;
  int owner = 0;  // index into kMemberIds
  Life life = Life::kActive;
  std::vector<size_t> children;
  std::set<std::pair<std::string, std::string>> assets;  // (kind, hash)
  std::vector<size_t> jobs;
  bool serving = false;
  bool paused_by_trash = false;
  // While trashed: the trash item it travels with (itself for an item).
  size_t item = kNone;
  // While it is a trash item:
  TimeMs deleted_at = 0;
  TimeMs cleanup_at = 0;
  bool hold = false;
  bool cleanup_delete_images = false;
  uint64_t cascaded = 0;
  int deleted_by = 0;

  bool IsItem(size_t self) const { return life == Life::kTrashed && item == self; }
};

struct ModelJob {
  std::string id;
  size_t resource = kNone;
  JobState state = JobState::kQueued;
  bool gone = false;  // its resource was purged
};

struct ModelWorkspace {
  std::string slug;
  int retention_days = kDefaultRetentionDays;
  uint64_t quota = 0;
  bool hold = false;
  std::set<std::string> stored;  // hashes ReadAsset answers
};

// What the workspaces held just before an operation that may purge.
struct PurgeSnapshot {
  std::array<std::set<std::string>, kWorkspaceCount> stored;
  std::array<uint64_t, kWorkspaceCount> usage_total{};
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string NormalPath(const fs::path& p) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(p, ec);
  return (ec ? p.lexically_normal() : canonical).string();
}

class PropertyRun {
 public:
  PropertyRun(TestEnv& env, uint64_t seed, int operations)
      : env_(env),
        engine_(env.engine()),
        rng_(seed),
        seed_(seed),
        operations_(operations) {
    for (int w = 0; w < kWorkspaceCount; ++w) {
      env_.MakeWorkspace(kWorkspaceSlugs[w], kRetentionDays[w]);
      ws_[w].slug = kWorkspaceSlugs[w];
      ws_[w].retention_days = kRetentionDays[w];
    }
    for (const char* type : {"project", "dataset", "workflow", "version", "model"}) {
      const ResourceType* t = env_.types().Find(type);
      REQUIRE(t != nullptr);
    }
    std::uniform_int_distribution<size_t> length(1, kMaxContentBytes);
    std::uniform_int_distribution<int> byte(0, 255);
    for (size_t i = 0; i < kContentPool; ++i) {
      std::string content(length(rng_), '\0');
      for (char& c : content) c = static_cast<char>(byte(rng_));
      content[0] = static_cast<char>(i);  // every content of the pool differs
      hash_index_[crypto::Sha256Hex(content)] = i;
      hashes_.push_back(crypto::Sha256Hex(content));
      pool_.push_back(std::move(content));
    }
  }

  void Run() {
    for (op_ = 1; op_ <= operations_; ++op_) {
      Step();
      CheckCounters();
      if (op_ % kCheckEvery == 0) CheckAll();
    }
    op_ = operations_;
    if (operations_ % kCheckEvery != 0) CheckAll();
    Finish();
  }

 private:
  enum class Op {
    kCreate,
    kPutAsset,
    kLinkAsset,
    kCreateJob,
    kSetJobState,
    kSetServing,
    kTrash,
    kRestore,
    kRestoreMany,
    kPurge,
    kEmptyTrash,
    kSweep,
    kItemHold,
    kWorkspaceHold,
    kQuota,
    kClock,
  };

  // ---- Running ------------------------------------------------------------------

  void Step() {
    // How often each operation runs, in the order of Op.
    static const std::vector<double> kWeights = {
        22,    // kCreate
        16,    // kPutAsset
        7,     // kLinkAsset
        4,     // kCreateJob
        3,     // kSetJobState
        3,     // kSetServing
        12,    // kTrash
        6,     // kRestore
        1.5,   // kRestoreMany
        3,     // kPurge
        0.15,  // kEmptyTrash
        2.5,   // kSweep
        2.5,   // kItemHold
        0.6,   // kWorkspaceHold
        1.2,   // kQuota
        3,     // kClock
    };
    std::discrete_distribution<int> pick(kWeights.begin(), kWeights.end());
    switch (static_cast<Op>(pick(rng_))) {
      case Op::kCreate:
        return OpCreate();
      case Op::kPutAsset:
        return OpPutAsset();
      case Op::kLinkAsset:
        return OpLinkAsset();
      case Op::kCreateJob:
        return OpCreateJob();
      case Op::kSetJobState:
        return OpSetJobState();
      case Op::kSetServing:
        return OpSetServing();
      case Op::kTrash:
        return OpTrash();
      case Op::kRestore:
        return OpRestore();
      case Op::kRestoreMany:
        return OpRestoreMany();
      case Op::kPurge:
        return OpPurge();
      case Op::kEmptyTrash:
        return OpEmptyTrash(RandomWs());
      case Op::kSweep:
        return OpSweep(env_.clock().Now(), Chance(0.4));
      case Op::kItemHold:
        return OpItemHold();
      case Op::kWorkspaceHold:
        return OpWorkspaceHold();
      case Op::kQuota:
        return OpQuota();
      case Op::kClock:
        return OpClock();
    }
  }

  // ---- Operations ---------------------------------------------------------------

  void OpCreate() {
    static const char* const kTypes[] = {"project",  "project", "dataset",
                                         "workflow", "version", "version",
                                         "model",    "model",   "model"};
    int w = RandomWs();
    std::string type = kTypes[Below(std::size(kTypes))];
    size_t parent = kNone;
    bool dead_parent = false;
    if (type == "version" || type == "model") {
      dead_parent = Chance(0.1);
      auto fits = [&](const ModelResource& r) {
        bool type_ok = r.type == "project" || (type == "model" && r.type == "version");
        return type_ok &&
               (dead_parent ? r.life != Life::kActive : r.life == Life::kActive);
      };
      parent = dead_parent ? PickAny(w, fits) : PickLive(w, fits);
      if (parent == kNone) {
        type = "project";
        dead_parent = false;
      }
    }
    const TypeInfo& info = Info(type);
    bool numbered = info.id_form == IdForm::kNumberedPerParent;
    std::string slug;
    if (type == "model") {
      slug = "m-" + std::to_string(Below(6));
    } else if (!numbered) {
      slug = type.substr(0, 2) + "-" + std::to_string(Below(12));
    }
    int owner = static_cast<int>(Below(2));
    NewResource spec;
    spec.type = type;
    spec.parent_id = parent == kNone ? "" : res_[parent].id;
    spec.slug = slug;
    spec.name = slug.empty() ? "version" : slug;
    Log("CreateResource " + Ws(w) + " " + type + " under " + Describe(parent) +
        " slug '" + slug + "' by " + kMemberIds[owner]);
    auto created = engine_.CreateResource(
        Actor::Member(kMemberIds[owner], Interface::kApi), Ws(w), spec);
    if (dead_parent) {
      ExpectRefused(created.status(), {Code::kNotFound},
                    "creating under a parent not active (T2)");
      return;
    }
    if (!numbered) {
      size_t scope = ScopeFor(type, parent);
      if (SlugTaken(w, type, scope, slug, kNone)) {
        ExpectRefused(created.status(), {Code::kConflict},
                      "creating with a slug already taken");
        return;
      }
    }
    ExpectOk(created.status(), "CreateResource");
    const Resource& got = created.value();
    ModelResource r;
    r.id = got.id;
    r.public_id = got.public_id;
    r.ws = w;
    r.type = type;
    r.parent = parent;
    r.slug = got.slug;
    r.owner = owner;
    RUN_EXPECT(!got.id.empty() && index_.count(got.id) == 0,
               "a new resource got a fresh id");
    RUN_EXPECT(
        got.type == type && got.workspace == Ws(w) && got.parent_id == spec.parent_id,
        "created resource " << got.id << " reads back its type, workspace and parent");
    RUN_EXPECT(got.state == ResourceState::kActive, "a created resource is active");
    RUN_EXPECT(got.owner_id == kMemberIds[owner],
               "the acting member owns what it created");
    if (numbered) {
      RUN_EXPECT(
          !got.public_id.empty() &&
              std::all_of(got.public_id.begin(), got.public_id.end(),
                          [](char c) { return c >= '0' && c <= '9'; }),
          "a numbered type's public id is a number, got '" << got.public_id << "'");
    } else {
      RUN_EXPECT(got.public_id == got.id, "an opaque type's public id is its id");
      RUN_EXPECT(got.slug == slug,
                 "created with slug '" << slug << "', got '" << got.slug << "'");
    }
    size_t idx = res_.size();
    index_[r.id] = idx;
    res_.push_back(std::move(r));
    live_.push_back(idx);
    if (parent != kNone) res_[parent].children.push_back(idx);
  }

  void OpPutAsset() {
    int w = RandomWs();
    double roll = Uniform();
    size_t target;
    std::string kind;
    if (roll < 0.85) {
      target = PickLive(w, [&](const ModelResource& r) {
        return r.life == Life::kActive && !Info(r.type).asset_kinds.empty();
      });
    } else if (roll < 0.93) {
      target = PickAny(w, [&](const ModelResource& r) {
        return r.life != Life::kActive && !Info(r.type).asset_kinds.empty();
      });
    } else {
      target =
          PickLive(w, [](const ModelResource& r) { return r.life == Life::kActive; });
      kind = "bogus-kind";
    }
    if (target == kNone) return;
    ModelResource& r = res_[target];
    if (kind.empty()) kind = RandomKind(r.type);
    size_t c = Below(kContentPool);
    const std::string& hash = hashes_[c];
    uint64_t bytes = pool_[c].size();
    bool stored = ws_[w].stored.count(hash) > 0;
    uint64_t total = StoredBytes(w);
    uint64_t quota = ws_[w].quota;
    Log("PutAsset " + Ws(w) + " " + Describe(target) + " kind " + kind + " content #" +
        std::to_string(c) + " (" + std::to_string(bytes) +
        " bytes, stored=" + std::to_string(stored) + ", usage " + std::to_string(total) +
        ", quota " + std::to_string(quota) + ")");
    auto put = engine_.PutAsset(Actor::Member(kMemberIds[r.owner], Interface::kApi),
                                Ws(w), r.id, kind, pool_[c]);
    if (r.life != Life::kActive) {
      ExpectRefused(put.status(), {Code::kNotFound},
                    "uploading to a resource not active (T2)");
      return;
    }
    if (kind == "bogus-kind") {
      ExpectRefused(put.status(), {Code::kInvalidArgument},
                    "uploading an asset of a foreign kind");
      return;
    }
    if (!stored && quota > 0 && total + bytes > quota) {
      ExpectRefused(put.status(), {Code::kQuotaExceeded},
                    "an upload over the quota (Q2)");
      RUN_EXPECT(!engine_.ReadAsset(Ws(w), hash).ok(),
                 "a refused upload stores nothing (Q2)");
      RUN_EXPECT(!fs::exists(engine_.BlobPath(Ws(w), hash)),
                 "a refused upload leaves no blob file (Q2)");
      return;
    }
    if (stored && quota > 0 && total > quota && !put.ok()) {
      // Already over a lowered quota: storing nothing new may be refused too.
      ExpectRefused(put.status(), {Code::kQuotaExceeded},
                    "an upload while over the quota");
      return;
    }
    bool already = r.assets.count({kind, hash}) > 0;
    if (already && !put.ok()) {
      ExpectRefused(put.status(), {Code::kConflict},
                    "uploading an asset the resource has");
      return;
    }
    ExpectOk(put.status(), "PutAsset");
    RUN_EXPECT(put->hash == hash, "an asset's hash is the SHA-256 of its content");
    RUN_EXPECT(put->bytes == bytes, "an asset's size is its content's");
    RUN_EXPECT(put->created == !stored,
               "created says whether the workspace had the content (stored="
                   << stored << ", created=" << put->created << ")");
    r.assets.insert({kind, hash});
    ws_[w].stored.insert(hash);
  }

  void OpLinkAsset() {
    int w = RandomWs();
    bool dead = Chance(0.15);
    size_t target =
        dead ? PickAny(w,
                       [&](const ModelResource& r) {
                         return r.life != Life::kActive &&
                                !Info(r.type).asset_kinds.empty();
                       })
             : PickLive(w, [&](const ModelResource& r) {
                 return r.life == Life::kActive && !Info(r.type).asset_kinds.empty();
               });
    if (target == kNone) return;
    ModelResource& r = res_[target];
    std::string kind = RandomKind(r.type);
    std::vector<size_t> stored, missing;
    for (size_t c = 0; c < kContentPool; ++c) {
      (ws_[w].stored.count(hashes_[c]) ? stored : missing).push_back(c);
    }
    bool link_stored = !stored.empty() && (missing.empty() || Chance(0.8));
    size_t c =
        link_stored ? stored[Below(stored.size())] : missing[Below(missing.size())];
    const std::string& hash = hashes_[c];
    Log("LinkAsset " + Ws(w) + " " + Describe(target) + " kind " + kind + " content #" +
        std::to_string(c) + " stored=" + std::to_string(link_stored));
    Status s = engine_.LinkAsset(Actor::Member(kMemberIds[r.owner], Interface::kApi),
                                 Ws(w), r.id, kind, hash);
    if (dead || !link_stored) {
      ExpectRefused(
          s, {Code::kNotFound},
          dead ? "linking to a resource not active" : "linking an asset not stored");
      if (!link_stored) {
        RUN_EXPECT(!fs::exists(engine_.BlobPath(Ws(w), hash)),
                   "a refused link creates no blob file");
      }
      return;
    }
    if (r.assets.count({kind, hash}) > 0 && !s.ok()) {
      ExpectRefused(s, {Code::kConflict}, "linking an asset the resource has");
      return;
    }
    ExpectOk(s, "LinkAsset");
    r.assets.insert({kind, hash});
  }

  void OpCreateJob() {
    int w = RandomWs();
    bool dead = Chance(0.15);
    // Workflows keep their jobs in the Trash (SPEC §1: nothing happens when one is
    // trashed), so jobs here run on the types whose jobs the Trash cancels (T4).
    size_t target =
        dead ? PickAny(w, [](const ModelResource& r) { return r.life != Life::kActive; })
             : PickLive(w, [](const ModelResource& r) {
                 return r.life == Life::kActive && r.type != "workflow";
               });
    if (target == kNone) return;
    Log("CreateJob " + Ws(w) + " " + Describe(target));
    auto job = engine_.CreateJob(testing::Alice(), Ws(w), res_[target].id);
    if (dead) {
      ExpectRefused(job.status(), {Code::kNotFound},
                    "a job on a resource not active (T2)");
      return;
    }
    if (!job.ok()) {
      ExpectRefused(job.status(), {Code::kInvalidArgument}, "a job on this type");
      return;
    }
    RUN_EXPECT(job->state == JobState::kQueued && job->resource_id == res_[target].id &&
                   job->workspace == Ws(w),
               "a new job is queued on its resource");
    ModelJob mj;
    mj.id = job->id;
    mj.resource = target;
    res_[target].jobs.push_back(jobs_.size());
    jobs_.push_back(std::move(mj));
  }

  void OpSetJobState() {
    if (jobs_.empty()) return;
    bool gone = Chance(0.1);
    std::vector<size_t> candidates;
    for (size_t j = 0; j < jobs_.size(); ++j) {
      if (jobs_[j].gone == gone) candidates.push_back(j);
    }
    if (candidates.empty()) return;
    ModelJob& job = jobs_[candidates[Below(candidates.size())]];
    int w = res_[job.resource].ws;
    JobState to =
        job.state == JobState::kRunning ? JobState::kFinished : JobState::kRunning;
    Log("SetJobState " + Ws(w) + " job of " + Describe(job.resource) + " from " +
        JobStateName(job.state) + " to " + JobStateName(to));
    Status s = engine_.SetJobState(testing::Alice(), Ws(w), job.id, to);
    if (job.gone) {
      ExpectRefused(s, {Code::kNotFound}, "a job of a purged resource is gone");
      return;
    }
    if (job.state == JobState::kCancelled || job.state == JobState::kFinished) {
      if (res_[job.resource].life == Life::kTrashed) {
        ExpectRefused(s, {Code::kConflict, Code::kInvalidArgument, Code::kNotFound},
                      "a cancelled job of a trashed resource does not change again");
      } else {
        ExpectRefused(s, {Code::kConflict, Code::kInvalidArgument},
                      "a cancelled or finished job does not change again");
      }
      return;
    }
    ExpectOk(s, "SetJobState");
    job.state = to;
  }

  void OpSetServing() {
    int w = RandomWs();
    bool dead = Chance(0.15);
    size_t target = dead ? PickAny(w,
                                   [](const ModelResource& r) {
                                     return r.type == "model" && r.life != Life::kActive;
                                   })
                         : PickLive(w, [](const ModelResource& r) {
                             return r.type == "model" && r.life == Life::kActive;
                           });
    if (target == kNone) return;
    bool serving = Chance(0.6);
    Log("SetServing " + Ws(w) + " " + Describe(target) + " " + std::to_string(serving));
    Status s =
        engine_.SetServing(Actor::Member(kMemberIds[res_[target].owner], Interface::kApi),
                           Ws(w), res_[target].id, serving);
    if (dead) {
      ExpectRefused(s, {Code::kNotFound}, "serving a model not active (T2)");
      return;
    }
    ExpectOk(s, "SetServing");
    res_[target].serving = serving;
  }

  void OpTrash() {
    int w = RandomWs();
    if (Chance(0.12)) {
      size_t target =
          PickAny(w, [](const ModelResource& r) { return r.life != Life::kActive; });
      if (target == kNone) return;
      Log("Trash (again) " + Ws(w) + " " + Describe(target));
      auto out = engine_.Trash(testing::Alice(), Ws(w), res_[target].id);
      ExpectRefused(out.status(), {Code::kNotFound}, "deleting what is not active (T3)");
      return;
    }
    size_t target =
        PickLive(w, [](const ModelResource& r) { return r.life == Life::kActive; });
    if (target == kNone) return;
    ModelResource& r = res_[target];
    bool owner_only = Info(r.type).owner_only_delete;
    int member =
        owner_only ? (Chance(0.1) ? 1 - r.owner : r.owner) : static_cast<int>(Below(2));
    TrashOptions options;
    options.cleanup_delete_images = r.type == "project" && Chance(0.4);
    TimeMs now = env_.clock().Now();
    Log("Trash " + Ws(w) + " " + Describe(target) + " by " + kMemberIds[member] +
        " cleanupDeleteImages=" + std::to_string(options.cleanup_delete_images));
    auto out = engine_.Trash(Actor::Member(kMemberIds[member], Interface::kApi), Ws(w),
                             r.id, options);
    if (owner_only && member != r.owner) {
      ExpectRefused(out.status(), {Code::kPermissionDenied},
                    "deleting another's project (T6)");
      RUN_EXPECT(Lower(out.status().message()).find(Lower(kMemberNames[r.owner])) !=
                     std::string::npos,
                 "T6: the refusal names the current owner: " << out.status().message());
      return;
    }
    ExpectOk(out.status(), "Trash");
    std::vector<size_t> cancelled;
    ModelTrash(target, now, options.cleanup_delete_images, member, &cancelled);
    const TrashItem& item = out->item;
    RUN_EXPECT(item.internal_id == r.id && item.type == r.type && item.id == r.public_id,
               "the trash item is the deleted resource");
    RUN_EXPECT(item.deleted_at == now && item.scheduled_cleanup_at == r.cleanup_at,
               "T1: deletedAt is now and scheduledCleanupAt is now + retention (got "
                   << item.deleted_at << ", " << item.scheduled_cleanup_at << "; want "
                   << now << ", " << r.cleanup_at << ")");
    RUN_EXPECT(item.deleted_by == kMemberIds[member], "T1: deletedBy is the caller");
    RUN_EXPECT(item.cascaded == r.cascaded,
               "T1: cascaded counts the active descendants (got "
                   << item.cascaded << ", want " << r.cascaded << ")");
    RUN_EXPECT(out->cancelled_jobs == static_cast<int>(cancelled.size()),
               "T4: cancelled_jobs (got " << out->cancelled_jobs << ", want "
                                          << cancelled.size() << ")");
    r.hold = item.hold;
    for (size_t j : cancelled) {
      auto job = engine_.GetJob(Ws(w), jobs_[j].id);
      ExpectOk(job.status(), "GetJob of a cancelled job");
      RUN_EXPECT(
          job->state == JobState::kCancelled && job->reason == "moved to trash",
          "T4: the subtree's jobs are cancelled with reason \"moved to trash\" (got "
              << JobStateName(job->state) << ", '" << job->reason << "')");
    }
  }

  void OpRestore() {
    int w = RandomWs();
    double roll = Uniform();
    auto actor = Actor::Member(kMemberIds[Below(2)], Interface::kApi);
    if (roll >= 0.8) {
      bool purged = roll >= 0.92;
      size_t target =
          purged
              ? PickAny(w, [](const ModelResource& r) { return r.life == Life::kPurged; })
              : PickLive(w, [&](const ModelResource& r) {
                  return r.life == Life::kActive ||
                         (r.life == Life::kTrashed && r.item != IndexOf(r));
                });
      if (target == kNone) return;
      Log("Restore (not an item) " + Ws(w) + " " + Describe(target));
      auto out = engine_.Restore(actor, Ws(w), res_[target].id);
      if (res_[target].life == Life::kTrashed) {
        // It is in the Trash, travelling with another item: pointing there fits too.
        ExpectRefused(out.status(), {Code::kNotFound, Code::kConflict},
                      "restoring what travels with another trash item");
      } else {
        ExpectRefused(out.status(), {Code::kNotFound},
                      "R4: restoring what is not in the Trash");
      }
      if (res_[target].life == Life::kActive) {
        RUN_EXPECT(out.status().message().find("is not in Trash") != std::string::npos,
                   "R4: the refusal says it is not in Trash: " << out.status().message());
      }
      return;
    }
    size_t target = PickItem(w);
    if (target == kNone) return;
    ModelResource& r = res_[target];
    size_t parent = r.parent;
    bool numbered = Info(r.type).id_form == IdForm::kNumberedPerParent;
    bool taken =
        !numbered && SlugTaken(w, r.type, ScopeFor(r.type, parent), r.slug, target);
    Log("Restore " + Ws(w) + " " + Describe(target) + (taken ? " (slug taken)" : ""));
    auto out = engine_.Restore(actor, Ws(w), r.id);
    if (parent != kNone && res_[parent].life != Life::kActive) {
      ExpectRefused(out.status(), {Code::kConflict},
                    "R2: restoring under a parent in trash");
      const std::string& pt = res_[parent].type;
      std::string want = "Cannot restore " + r.type + " while its parent " + pt +
                         " is in trash. Restore the " + pt + " first.";
      RUN_EXPECT(out.status().message() == want, "R2 message: got '"
                                                     << out.status().message()
                                                     << "', want '" << want << "'");
      return;
    }
    ExpectOk(out.status(), "Restore");
    RUN_EXPECT(out->internal_id == r.id && out->type == r.type && out->id == r.public_id,
               "the restore outcome names the item");
    RUN_EXPECT(out->restored == 1 + r.cascaded,
               "R1: the item comes back with what travelled with it (got "
                   << out->restored << ", want " << 1 + r.cascaded << ")");
    if (!numbered) {
      std::string old_slug = r.slug;
      RUN_EXPECT(out->renamed == taken,
                 "R3: renamed iff the slug was taken (taken=" << taken << ")");
      if (taken) {
        RUN_EXPECT(out->slug != old_slug && out->previous_slug == old_slug,
                   "R3: a taken slug comes back as a free one");
      } else {
        RUN_EXPECT(out->slug == old_slug, "R3: a free slug comes back unchanged");
      }
    }
    std::vector<size_t> restored = ModelRestore(target, out->slug);
    SyncSlugs(restored);
  }

  void OpRestoreMany() {
    int w = RandomWs();
    std::vector<size_t> items = Items(w);
    bool all = Chance(0.1);
    std::vector<size_t> request;  // kNone: an id that never existed
    if (!all) {
      for (size_t i : items) {
        if (request.size() < 20 && Chance(0.3)) request.push_back(i);
      }
      if (Chance(0.3)) {
        size_t other =
            PickLive(w, [&](const ModelResource& r) { return !r.IsItem(IndexOf(r)); });
        if (other != kNone) request.push_back(other);
      }
      if (Chance(0.1)) request.push_back(kNone);
      std::shuffle(request.begin(), request.end(), rng_);
      if (request.empty()) return;
    }
    std::vector<std::string> ids;
    for (size_t i : request) ids.push_back(i == kNone ? "p_doesnotexist" : res_[i].id);
    // Parents go before children whatever the order: restore whatever can be, repeatedly.
    std::vector<size_t> considered;
    for (size_t i : all ? items : request) {
      if (i != kNone && res_[i].IsItem(i)) considered.push_back(i);
    }
    std::set<size_t> back, done;
    std::vector<size_t> order;
    for (bool progress = true; progress;) {
      progress = false;
      for (size_t i : considered) {
        if (done.count(i)) continue;
        size_t p = res_[i].parent;
        if (p == kNone || res_[p].life == Life::kActive || back.count(p)) {
          done.insert(i);
          order.push_back(i);
          for (size_t c : CascadedWith(i)) back.insert(c);
          progress = true;
        }
      }
    }
    std::ostringstream desc;
    desc << "RestoreMany " << Ws(w) << (all ? " all" : "");
    for (size_t i : request) desc << " " << Describe(i);
    Log(desc.str());
    std::vector<RestoreResult> results = engine_.RestoreMany(
        testing::Alice(), Ws(w), all ? std::vector<std::string>{} : ids);
    std::map<std::string, const RestoreResult*> by_id;
    for (const RestoreResult& result : results) by_id[result.internal_id] = &result;
    RUN_EXPECT(results.size() == (all ? items.size() : ids.size()) &&
                   by_id.size() == results.size(),
               "R6: one answer per item (got " << results.size() << ")");
    for (size_t k = 0; k < request.size(); ++k) {
      size_t i = request[k];
      if (i != kNone && res_[i].IsItem(i)) continue;
      auto found = by_id.find(ids[k]);
      RUN_EXPECT(found != by_id.end(), "R6: an answer for " << ids[k]);
      if (i != kNone && res_[i].life == Life::kTrashed) {
        ExpectRefused(found->second->status, {Code::kNotFound, Code::kConflict},
                      "R6: what travels with another item is not restored alone");
      } else {
        ExpectRefused(found->second->status, {Code::kNotFound},
                      "R6: what is not in the Trash answers NotFound");
      }
    }
    for (size_t i : considered) {
      auto found = by_id.find(res_[i].id);
      RUN_EXPECT(found != by_id.end(), "R6: an answer for " << Describe(i));
      const RestoreResult& result = *found->second;
      if (done.count(i)) {
        ExpectOk(result.status, "R6: restoring " + Describe(i));
        RUN_EXPECT(result.outcome.has_value() &&
                       result.outcome->restored == 1 + res_[i].cascaded,
                   "R6: the item comes back with what travelled with it");
      } else {
        ExpectRefused(result.status, {Code::kConflict},
                      "R2 in bulk: parent still in trash");
      }
    }
    std::vector<size_t> restored;
    for (size_t i : order) {
      const RestoreResult& result = *by_id[res_[i].id];
      std::vector<size_t> back_now = ModelRestore(i, result.outcome->slug);
      restored.insert(restored.end(), back_now.begin(), back_now.end());
    }
    SyncSlugs(restored);
  }

  void OpPurge() {
    int w = RandomWs();
    int via = static_cast<int>(Below(10));
    Actor actor = via < 7   ? Actor::Admin()
                  : via < 9 ? Actor::Member("alice", Interface::kWeb)
                            : Actor::Member("alice", Interface::kApi);
    if (Chance(0.1)) {
      size_t target =
          PickAny(w, [&](const ModelResource& r) { return !r.IsItem(IndexOf(r)); });
      if (target == kNone) return;
      Log("Purge (not an item) " + Ws(w) + " " + Describe(target));
      auto out = engine_.Purge(Actor::Admin(), Ws(w), res_[target].id);
      ExpectRefused(out.status(), {Code::kNotFound}, "purging what is not a trash item");
      return;
    }
    size_t target = PickItem(w);
    if (target == kNone) return;
    const std::string id = res_[target].id;
    bool blocked = Blocked(target);
    Log("Purge " + Ws(w) + " " + Describe(target) + " via " + InterfaceName(actor.via) +
        (blocked ? " (held)" : ""));
    auto item = engine_.GetTrashItem(Ws(w), id);
    ExpectOk(item.status(), "GetTrashItem before purge");
    PurgeSnapshot before = Snapshot();
    auto out = engine_.Purge(actor, Ws(w), id);
    if (actor.via == Interface::kApi) {
      ExpectRefused(out.status(), {Code::kPermissionDenied, Code::kUnauthenticated},
                    "P3: no API request can purge");
      return;
    }
    if (blocked) {
      ExpectRefused(out.status(), {Code::kConflict}, "P4: a held item is never purged");
      return;
    }
    ExpectOk(out.status(), "Purge");
    std::vector<size_t> removed;
    ModelPurge(target, &removed);
    uint64_t freed = Reconcile(before, removed);
    RUN_EXPECT(out->resources == removed.size(), "P1: the whole subtree goes (got "
                                                     << out->resources << ", want "
                                                     << removed.size() << ")");
    RUN_EXPECT(out->bytes_freed == freed, "P1: bytes_freed is what usage dropped by (got "
                                              << out->bytes_freed << ", want " << freed
                                              << ")");
    RUN_EXPECT(item->size == freed, "Q3: an item's size is what purging it frees (size "
                                        << item->size << ", freed " << freed << ")");
    RUN_EXPECT(out->items >= 1, "a purge counts its item");
  }

  void OpEmptyTrash(int w) {
    Log("EmptyTrash " + Ws(w) + (ws_[w].hold ? " (workspace held)" : ""));
    PurgeSnapshot before = Snapshot();
    std::vector<size_t> targets, kept;
    for (size_t i : Items(w)) (Blocked(i) ? kept : targets).push_back(i);
    auto out = engine_.EmptyTrash(Actor::Admin(), Ws(w));
    if (targets.empty() && !kept.empty() && !out.ok()) {
      // Holds keep everything: refusing is as fitting as purging nothing (P4).
      ExpectRefused(out.status(), {Code::kConflict}, "P4: emptying a Trash holds keep");
      return;
    }
    ExpectOk(out.status(), "EmptyTrash");
    std::vector<size_t> removed;
    for (size_t i : targets) {
      if (res_[i].life == Life::kTrashed) ModelPurge(i, &removed);
    }
    uint64_t freed = Reconcile(before, removed);
    RUN_EXPECT(out->resources == removed.size(),
               "EmptyTrash removes every item no hold keeps (got "
                   << out->resources << " resources, want " << removed.size() << ")");
    RUN_EXPECT(out->bytes_freed == freed,
               "EmptyTrash: bytes_freed is what usage dropped by (got "
                   << out->bytes_freed << ", want " << freed << ")");
    for (const std::string& id : out->skipped_held) {
      auto found = index_.find(id);
      RUN_EXPECT(found != index_.end() && res_[found->second].IsItem(found->second),
                 "EmptyTrash: a skipped id is an item still in the Trash: " << id);
    }
    if (!ws_[w].hold) {
      std::set<std::string> skipped(out->skipped_held.begin(), out->skipped_held.end()),
          want;
      for (size_t i : kept) want.insert(res_[i].id);
      RUN_EXPECT(skipped == want && out->skipped_held.size() == want.size(),
                 "P4: EmptyTrash reports every item a hold keeps (got "
                     << out->skipped_held.size() << ", want " << want.size() << ")"
                     << Differences(skipped, want));
    }
  }

  void OpSweep(TimeMs now, bool dry_run) {
    size_t batch = 1 + Below(5);
    std::vector<size_t> expired;
    for (int w = 0; w < kWorkspaceCount; ++w) {
      for (size_t i : Items(w)) {
        if (res_[i].cleanup_at <= now && !Blocked(i)) expired.push_back(i);
      }
    }
    Log("SweepOnce now=" + std::to_string(now) + " batch=" + std::to_string(batch) +
        " dry_run=" + std::to_string(dry_run) + " (expecting " +
        std::to_string(expired.size()) + " items)");
    PurgeSnapshot before = Snapshot();
    auto report = engine_.SweepOnce(now, batch, dry_run);
    ExpectOk(report.status(), "SweepOnce");
    RUN_EXPECT(report->dry_run == dry_run, "the report says whether it was a dry run");
    if (dry_run) {
      std::set<std::string> want, got;
      for (size_t i : expired) want.insert(res_[i].id);
      for (const TrashItem& item : report->would_purge) got.insert(item.internal_id);
      RUN_EXPECT(got == want && report->would_purge.size() == want.size(),
                 "S1: a dry run lists every expired item no hold keeps (got "
                     << got.size() << " items, want " << want.size() << ")"
                     << Differences(got, want));
      return;
    }
    std::vector<size_t> removed;
    uint64_t expired_items = 0;
    for (size_t i : expired) {
      if (res_[i].life != Life::kTrashed) continue;
      ++expired_items;
      ModelPurge(i, &removed);
    }
    uint64_t items_removed = 0;
    for (size_t i : removed) items_removed += res_[i].item == i;
    uint64_t freed = Reconcile(before, removed);
    RUN_EXPECT(report->resources == removed.size(),
               "S1: the sweep purges every expired item and its subtree (got "
                   << report->resources << " resources, want " << removed.size() << ")");
    RUN_EXPECT(report->bytes == freed,
               "S2: the run's bytes are what usage dropped by (got "
                   << report->bytes << ", want " << freed << ")");
    RUN_EXPECT(report->items >= expired_items && report->items <= items_removed,
               "S2: the run counts its items (got "
                   << report->items << ", want " << expired_items << ".." << items_removed
                   << ")");
    std::vector<SweepRun> runs = engine_.SweepRuns(100000);
    ++real_sweeps_;
    RUN_EXPECT(runs.size() == real_sweeps_, "S2: every real run is recorded (got "
                                                << runs.size() << ", want "
                                                << real_sweeps_ << ")");
    auto matches = [&](const SweepRun& run) {
      return run.items == report->items && run.bytes == report->bytes &&
             run.finished != 0;
    };
    RUN_EXPECT(matches(runs.front()) || matches(runs.back()),
               "S2: the latest run is recorded with its items and bytes");
  }

  void OpItemHold() {
    int w = RandomWs();
    if (Chance(0.1)) {
      size_t target =
          PickAny(w, [&](const ModelResource& r) { return !r.IsItem(IndexOf(r)); });
      if (target == kNone) return;
      Log("SetItemHold (not an item) " + Ws(w) + " " + Describe(target));
      ExpectRefused(engine_.SetItemHold(Actor::Admin(), Ws(w), res_[target].id, true),
                    {Code::kNotFound}, "holding what is not a trash item");
      return;
    }
    size_t target = PickItem(w);
    if (target == kNone) return;
    bool hold = !res_[target].hold;
    Log("SetItemHold " + Ws(w) + " " + Describe(target) + " " + std::to_string(hold));
    ExpectOk(engine_.SetItemHold(Actor::Admin(), Ws(w), res_[target].id, hold),
             "SetItemHold");
    res_[target].hold = hold;
  }

  void OpWorkspaceHold() {
    int w = RandomWs();
    bool hold = !ws_[w].hold && Chance(0.5);
    Log("SetWorkspaceHold " + Ws(w) + " " + std::to_string(hold));
    ExpectOk(engine_.SetWorkspaceHold(Actor::Admin(), Ws(w), hold), "SetWorkspaceHold");
    ws_[w].hold = hold;
  }

  void OpQuota() {
    int w = RandomWs();
    uint64_t total = StoredBytes(w);
    size_t roll = Below(10);
    uint64_t quota = roll < 4 ? 0 : roll < 9 ? total + Below(2000) : total / 2;
    Log("SetQuota " + Ws(w) + " " + std::to_string(quota) + " (usage " +
        std::to_string(total) + ")");
    ExpectOk(engine_.SetQuota(Actor::Admin(), Ws(w), quota), "SetQuota");
    ws_[w].quota = quota;
  }

  void OpClock() {
    TimeMs by = static_cast<TimeMs>(Below(static_cast<size_t>(40 * kMsPerDay) + 1));
    Log("Advance clock by " + std::to_string(by / kMsPerDay) + " days (" +
        std::to_string(by) + " ms)");
    env_.clock().Advance(by);
  }

  // ---- The end ------------------------------------------------------------------

  void Finish() {
    ++op_;
    Log("Release every hold");
    for (int w = 0; w < kWorkspaceCount; ++w) {
      if (ws_[w].hold) {
        ExpectOk(engine_.SetWorkspaceHold(Actor::Admin(), Ws(w), false),
                 "release workspace");
        ws_[w].hold = false;
      }
      for (size_t i : Items(w)) {
        if (res_[i].hold) {
          ExpectOk(engine_.SetItemHold(Actor::Admin(), Ws(w), res_[i].id, false),
                   "release item");
          res_[i].hold = false;
        }
      }
    }
    for (int w = 0; w < kWorkspaceCount; ++w) {
      OpEmptyTrash(w);
      CheckCounters();
      auto usage = engine_.GetUsage(Ws(w));
      ExpectOk(usage.status(), "GetUsage");
      RUN_EXPECT(usage->trash_bytes == 0 && usage->trash_items == 0,
                 "after Empty Trash, " << Ws(w) << " has no trash (bytes "
                                       << usage->trash_bytes << ", items "
                                       << usage->trash_items << ")");
    }
    OpSweep(env_.clock().Now() + 3650 * kMsPerDay, false);
    CheckCounters();
    for (int w = 0; w < kWorkspaceCount; ++w) {
      auto usage = engine_.GetUsage(Ws(w));
      ExpectOk(usage.status(), "GetUsage");
      RUN_EXPECT(usage->trash_bytes == 0 && usage->trash_items == 0,
                 "after the final sweep, " << Ws(w) << " has no trash");
    }
    CheckAll();
  }

  // ---- The model ----------------------------------------------------------------

  // Marks `x` and its active descendants trashed with `x` as their item (T1), stops
  // its models serving and cancels its open jobs (T4). Returns the cancelled jobs.
  void ModelTrash(size_t x, TimeMs now, bool cleanup, int member,
                  std::vector<size_t>* cancelled) {
    ModelResource& r = res_[x];
    std::vector<size_t> moved = {x};
    r.life = Life::kTrashed;
    r.item = x;
    r.deleted_at = now;
    r.cleanup_at = now + ws_[r.ws].retention_days * kMsPerDay;
    r.hold = false;
    r.cleanup_delete_images = cleanup;
    r.deleted_by = member;
    std::vector<size_t> stack(r.children.begin(), r.children.end());
    while (!stack.empty()) {
      size_t c = stack.back();
      stack.pop_back();
      if (res_[c].life != Life::kActive) continue;  // T7: already trashed on its own
      res_[c].life = Life::kTrashed;
      res_[c].item = x;
      moved.push_back(c);
      stack.insert(stack.end(), res_[c].children.begin(), res_[c].children.end());
    }
    r.cascaded = moved.size() - 1;
    for (size_t m : moved) {
      ModelResource& mr = res_[m];
      if (mr.serving) {
        mr.serving = false;
        mr.paused_by_trash = true;
      }
      for (size_t j : mr.jobs) {
        if (jobs_[j].state == JobState::kQueued || jobs_[j].state == JobState::kRunning) {
          jobs_[j].state = JobState::kCancelled;
          cancelled->push_back(j);
        }
      }
    }
  }

  // The resources that travel with item `x`, itself included.
  std::vector<size_t> CascadedWith(size_t x) const {
    std::vector<size_t> out = {x};
    for (size_t k = 0; k < out.size(); ++k) {
      for (size_t c : res_[out[k]].children) {
        if (res_[c].life == Life::kTrashed && res_[c].item == x) out.push_back(c);
      }
    }
    return out;
  }

  std::vector<size_t> ModelRestore(size_t x, const std::string& slug) {
    std::vector<size_t> back = CascadedWith(x);
    for (size_t i : back) {
      ModelResource& r = res_[i];
      r.life = Life::kActive;
      r.item = kNone;
      r.hold = false;
      if (r.paused_by_trash) {  // R5
        r.serving = true;
        r.paused_by_trash = false;
      }
    }
    if (Info(res_[x].type).id_form != IdForm::kNumberedPerParent) res_[x].slug = slug;
    return back;
  }

  // `x` and every descendant not purged.
  std::vector<size_t> Subtree(size_t x) const {
    std::vector<size_t> out = {x};
    for (size_t k = 0; k < out.size(); ++k) {
      for (size_t c : res_[out[k]].children) {
        if (res_[c].life != Life::kPurged) out.push_back(c);
      }
    }
    return out;
  }

  // P4: an item is kept while its workspace is held, or an item it is in or that is in
  // it: a hold keeps everything inside the held item, items trashed before it included,
  // and nothing can be purged out from under a held item.
  bool Blocked(size_t x) const {
    if (ws_[res_[x].ws].hold) return true;
    for (size_t a = x; a != kNone; a = res_[a].parent) {
      if (res_[a].IsItem(a) && res_[a].hold) return true;
    }
    for (size_t i : Subtree(x)) {
      if (res_[i].IsItem(i) && res_[i].hold) return true;
    }
    return false;
  }

  void ModelPurge(size_t x, std::vector<size_t>* removed) {
    for (size_t i : Subtree(x)) {
      RUN_EXPECT(res_[i].life == Life::kTrashed,
                 "model: everything under a trash item is trashed: " << Describe(i));
      res_[i].life = Life::kPurged;
      for (size_t j : res_[i].jobs) jobs_[j].gone = true;
      removed->push_back(i);
      purged_.push_back(i);
    }
    live_.erase(std::remove_if(live_.begin(), live_.end(),
                               [&](size_t i) { return res_[i].life == Life::kPurged; }),
                live_.end());
  }

  // The resource whose slug scope holds `type` resources created under `parent`.
  size_t ScopeFor(const std::string& type, size_t parent) const {
    const std::string& scope_type = Info(type).slug_scope_type;
    if (scope_type.empty()) return parent;
    size_t p = parent;
    while (p != kNone && res_[p].type != scope_type) p = res_[p].parent;
    return p;
  }

  // The active resource of `type` in `scope` with `slug`, other than `except`.
  size_t SlugHolder(int w, const std::string& type, size_t scope, const std::string& slug,
                    size_t except) const {
    for (size_t i : live_) {
      const ModelResource& r = res_[i];
      if (i != except && r.ws == w && r.life == Life::kActive && r.type == type &&
          r.slug == slug && ScopeFor(type, r.parent) == scope) {
        return i;
      }
    }
    return kNone;
  }

  bool SlugTaken(int w, const std::string& type, size_t scope, const std::string& slug,
                 size_t except) const {
    return SlugHolder(w, type, scope, slug, except) != kNone;
  }

  // Reads back the slugs restored resources came back under; R3 keeps them unique.
  void SyncSlugs(const std::vector<size_t>& restored) {
    for (size_t i : restored) {
      ModelResource& r = res_[i];
      auto got = engine_.GetResource(Ws(r.ws), r.id);
      ExpectOk(got.status(), "GetResource of a restored " + Describe(i));
      RUN_EXPECT(got->state == ResourceState::kActive, "a restored resource is active");
      if (Info(r.type).id_form != IdForm::kNumberedPerParent) r.slug = got->slug;
    }
    for (size_t i : restored) {
      const ModelResource& r = res_[i];
      if (Info(r.type).id_form == IdForm::kNumberedPerParent) continue;
      size_t other = SlugHolder(r.ws, r.type, ScopeFor(r.type, r.parent), r.slug, i);
      RUN_EXPECT(other == kNone, "R3: restored " << Describe(i) << " under slug '"
                                                 << r.slug << "' which "
                                                 << Describe(other) << " has too");
    }
  }

  std::vector<size_t> Items(int w) const {
    std::vector<size_t> out;
    for (size_t i : live_) {
      if (res_[i].ws == w && res_[i].IsItem(i)) out.push_back(i);
    }
    return out;
  }

  uint64_t StoredBytes(int w) const {
    uint64_t total = 0;
    for (const std::string& h : ws_[w].stored) total += pool_[hash_index_.at(h)].size();
    return total;
  }

  uint64_t OwnBytes(const ModelResource& r) const {
    std::set<std::string> distinct;
    for (const auto& [kind, hash] : r.assets) distinct.insert(hash);
    uint64_t total = 0;
    for (const std::string& h : distinct) total += pool_[hash_index_.at(h)].size();
    return total;
  }

  // How many live (active or trashed) resources reference each hash.
  std::map<std::string, int> LiveRefs(int w) const {
    std::map<std::string, int> refs;
    for (size_t i : live_) {
      if (res_[i].ws != w) continue;
      std::set<std::string> distinct;
      for (const auto& [kind, hash] : res_[i].assets) distinct.insert(hash);
      for (const std::string& h : distinct) ++refs[h];
    }
    return refs;
  }

  PurgeSnapshot Snapshot() {
    PurgeSnapshot s;
    for (int w = 0; w < kWorkspaceCount; ++w) {
      s.stored[w] = ws_[w].stored;
      s.usage_total[w] = StoredBytes(w);
    }
    return s;
  }

  // After a purge: the workspaces store exactly what a live resource references or the
  // library keeps (P1, P2), and the purged resources are unreachable. Returns the bytes
  // usage dropped by.
  uint64_t Reconcile(const PurgeSnapshot& before, const std::vector<size_t>& removed) {
    // P2: the images of a project deleted without cleanupDeleteImages stay in the
    // workspace's asset library.
    for (size_t i : removed) {
      const ModelResource& r = res_[i];
      if (r.type != "project" || r.cleanup_delete_images) continue;
      for (const auto& [kind, hash] : r.assets) {
        if (kind == "image") library_[r.ws].insert(hash);
      }
    }
    uint64_t dropped = 0;
    for (int w = 0; w < kWorkspaceCount; ++w) {
      std::map<std::string, int> refs = LiveRefs(w);
      std::set<std::string> now;
      for (size_t c = 0; c < kContentPool; ++c) {
        const std::string& h = hashes_[c];
        auto read = engine_.ReadAsset(Ws(w), h);
        if (read.ok()) {
          RUN_EXPECT(*read == pool_[c], "an asset reads back its content");
          now.insert(h);
        } else {
          ExpectRefused(read.status(), {Code::kNotFound},
                        "ReadAsset of an asset not stored");
        }
        bool was = before.stored[w].count(h) > 0;
        bool referenced = refs.count(h) > 0;
        bool library = library_[w].count(h) > 0;
        bool should = was && (referenced || library);
        RUN_EXPECT(
            now.count(h) == static_cast<size_t>(should),
            (should ? "P1/P2: an asset still referenced or kept by the library stays"
                    : "P1/P2: an asset no longer referenced is freed")
                << ": content #" << c << " in " << Ws(w) << " (stored before " << was
                << ", referenced " << referenced << ", library " << library
                << ", purged refs " << PurgedRefs(removed, w, h) << ")");
      }
      ws_[w].stored = std::move(now);
      uint64_t after = StoredBytes(w);
      RUN_EXPECT(after <= before.usage_total[w], "a purge never raises usage");
      dropped += before.usage_total[w] - after;
    }
    for (size_t i : removed) CheckPurged(i, nullptr);
    for (int w = 0; w < kWorkspaceCount; ++w) {
      for (size_t i : Items(w)) {
        RUN_EXPECT(engine_.GetTrashItem(Ws(w), res_[i].id).ok(),
                   "an item no purge reached stays in the Trash: " << Describe(i));
      }
    }
    return dropped;
  }

  // Which purged resources referenced `hash`, for failure messages.
  std::string PurgedRefs(const std::vector<size_t>& removed, int w,
                         const std::string& hash) {
    std::ostringstream os;
    os << "[";
    for (size_t i : removed) {
      if (res_[i].ws != w) continue;
      for (const auto& [kind, h] : res_[i].assets) {
        if (h != hash) continue;
        os << " " << res_[i].type << " #" << i << " " << kind;
        if (res_[i].type == "project")
          os << " cleanup=" << res_[res_[i].item].cleanup_delete_images;
      }
    }
    os << " ]";
    return os.str();
  }

  // Bytes of the stored assets an active resource references or the library keeps
  // (first), and of those only a trashed project deleted without cleanupDeleteImages
  // references besides (second): the library will keep them at purge (P2), so they may
  // count as active or as trash.
  std::pair<uint64_t, uint64_t> ActiveBytesRange(int w) const {
    std::set<std::string> kept = library_[w], to_library;
    for (size_t i : live_) {
      const ModelResource& r = res_[i];
      if (r.ws != w) continue;
      for (const auto& [kind, hash] : r.assets) {
        if (r.life == Life::kActive) kept.insert(hash);
        if (r.life == Life::kTrashed && r.type == "project" && kind == "image" &&
            !r.cleanup_delete_images) {
          to_library.insert(hash);
        }
      }
    }
    uint64_t must = 0, may = 0;
    for (const std::string& h : ws_[w].stored) {
      uint64_t bytes = pool_[hash_index_.at(h)].size();
      if (kept.count(h)) {
        must += bytes;
      } else if (to_library.count(h)) {
        may += bytes;
      }
    }
    return {must, must + may};
  }

  // ---- Checks -------------------------------------------------------------------

  // After every operation: usage matches the stored assets (Q1), the item count and
  // the quota match.
  void CheckCounters() {
    for (int w = 0; w < kWorkspaceCount; ++w) {
      auto usage = engine_.GetUsage(Ws(w));
      ExpectOk(usage.status(), "GetUsage");
      uint64_t want = StoredBytes(w);
      RUN_EXPECT(usage->total() == want,
                 "Q1: usage of " << Ws(w) << " is every stored asset once (got "
                                 << usage->total() << " = " << usage->active_bytes
                                 << " active + " << usage->trash_bytes << " trash, want "
                                 << want << ")");
      auto [low, high] = ActiveBytesRange(w);
      RUN_EXPECT(usage->active_bytes >= low && usage->active_bytes <= high,
                 "Q1: active bytes of "
                     << Ws(w) << " are the assets an active resource or "
                     << "the library keeps (got " << usage->active_bytes << ", want "
                     << low << ".." << high << ")");
      size_t items = Items(w).size();
      RUN_EXPECT(usage->trash_items == items, "usage counts the items in "
                                                  << Ws(w) << "'s Trash (got "
                                                  << usage->trash_items << ", want "
                                                  << items << ")");
      RUN_EXPECT(usage->quota_bytes == ws_[w].quota, "usage reports the quota");
    }
  }

  void CheckAll() {
    Log("CheckAll");
    FsckReport report = engine_.Fsck();
    std::string differences;
    for (const std::string& d : report.differences) differences += d + "\n";
    INFO("fsck after operation " << op_ << " (seed " << seed_ << "):\n" << differences);
    REQUIRE(report.ok());
    for (int w = 0; w < kWorkspaceCount; ++w) {
      CheckWorkspace(w);
      CheckTrashListing(w);
    }
    for (size_t i : live_) CheckLive(i);
    std::set<std::string> listed;
    for (int w = 0; w < kWorkspaceCount; ++w) {
      std::vector<TrashItem> items = ListAll(w, "");
      for (const TrashItem& item : items) listed.insert(item.internal_id);
    }
    for (size_t i : purged_) CheckPurged(i, &listed);
    CheckBlobFiles();
  }

  void CheckWorkspace(int w) {
    auto workspace = engine_.GetWorkspace(Ws(w));
    ExpectOk(workspace.status(), "GetWorkspace");
    RUN_EXPECT(workspace->hold == ws_[w].hold && workspace->quota_bytes == ws_[w].quota,
               "the workspace reads back its hold and quota");
    // Stored assets read back, and every referenced one is stored.
    std::map<std::string, int> refs = LiveRefs(w);
    for (size_t c = 0; c < kContentPool; ++c) {
      auto read = engine_.ReadAsset(Ws(w), hashes_[c]);
      bool stored = ws_[w].stored.count(hashes_[c]) > 0;
      RUN_EXPECT(read.ok() == stored, "content #" << c << " stored in " << Ws(w)
                                                  << ": got " << read.ok() << ", want "
                                                  << stored);
      if (read.ok()) RUN_EXPECT(*read == pool_[c], "an asset reads back its content");
      RUN_EXPECT(!refs.count(hashes_[c]) || stored, "a referenced asset is stored");
    }
    // P1/P2: a workspace stores exactly what a live resource references or the library
    // keeps.
    for (size_t c = 0; c < kContentPool; ++c) {
      const std::string& h = hashes_[c];
      bool kept = refs.count(h) > 0 || library_[w].count(h) > 0;
      RUN_EXPECT(
          kept == (ws_[w].stored.count(h) > 0),
          "content #" << c << " of " << Ws(w) << " is stored iff referenced or kept");
    }
    auto usage = engine_.GetUsage(Ws(w));
    ExpectOk(usage.status(), "GetUsage");
    // Logical bytes by type: each resource's own assets.
    std::map<std::string, uint64_t> active_by_type, trash_by_type;
    for (size_t i : live_) {
      const ModelResource& r = res_[i];
      if (r.ws != w) continue;
      (r.life == Life::kActive ? active_by_type : trash_by_type)[r.type] += OwnBytes(r);
    }
    auto same = [](const std::map<std::string, uint64_t>& got,
                   const std::map<std::string, uint64_t>& want) {
      for (const auto& [type, bytes] : got) {
        auto found = want.find(type);
        if (bytes != (found == want.end() ? 0 : found->second)) return false;
      }
      for (const auto& [type, bytes] : want) {
        auto found = got.find(type);
        if (bytes != (found == got.end() ? 0 : found->second)) return false;
      }
      return true;
    };
    RUN_EXPECT(same(usage->active_by_type, active_by_type),
               "Q1: active bytes by type of " << Ws(w) << ": "
                                              << Show(usage->active_by_type) << " want "
                                              << Show(active_by_type));
    RUN_EXPECT(same(usage->trash_by_type, trash_by_type),
               "Q1: trash bytes by type of " << Ws(w) << ": "
                                             << Show(usage->trash_by_type) << " want "
                                             << Show(trash_by_type));
    // T2: listings show the active resources only, and slugs are unique among them.
    std::set<std::string> want_top, got_top;
    for (size_t i : live_) {
      const ModelResource& r = res_[i];
      if (r.ws == w && r.parent == kNone && r.life == Life::kActive)
        want_top.insert(r.id);
    }
    for (const Resource& r : engine_.ListResources(Ws(w), "", "")) got_top.insert(r.id);
    RUN_EXPECT(got_top == want_top, "T2: the top-level listing of "
                                        << Ws(w) << " has " << got_top.size()
                                        << " resources, want " << want_top.size());
    std::set<std::tuple<std::string, size_t, std::string>> slugs;
    for (size_t i : live_) {
      const ModelResource& r = res_[i];
      if (r.ws != w || r.life != Life::kActive) continue;
      if (Info(r.type).id_form == IdForm::kNumberedPerParent) continue;
      RUN_EXPECT(
          slugs.insert({r.type, ScopeFor(r.type, r.parent), r.slug}).second,
          "two active " << r.type << "s share slug '" << r.slug << "' in " << Ws(w));
      if (r.parent == kNone) {
        auto found = engine_.FindResource(Ws(w), r.type, "", r.slug);
        RUN_EXPECT(found.ok() && found->id == r.id, "FindResource finds " << Describe(i));
      }
      if (!r.children.empty()) {
        std::set<std::string> want_children, got_children;
        for (size_t c : r.children) {
          if (res_[c].life == Life::kActive) want_children.insert(res_[c].id);
        }
        for (const Resource& child : engine_.ListResources(Ws(w), r.id, "")) {
          got_children.insert(child.id);
        }
        RUN_EXPECT(got_children == want_children, "T2: the children listing of "
                                                      << Describe(i)
                                                      << " shows the active ones");
      }
    }
  }

  void CheckLive(size_t i) {
    const ModelResource& r = res_[i];
    const std::string ws = Ws(r.ws);
    auto got = engine_.GetResource(ws, r.id);
    if (r.life == Life::kActive) {
      ExpectOk(got.status(), "GetResource of active " + Describe(i));
      RUN_EXPECT(got->type == r.type && got->parent_id == ParentId(r) &&
                     got->public_id == r.public_id &&
                     got->state == ResourceState::kActive &&
                     got->owner_id == kMemberIds[r.owner],
                 "an active resource reads back as created: " << Describe(i));
      if (Info(r.type).id_form != IdForm::kNumberedPerParent) {
        RUN_EXPECT(got->slug == r.slug, "slug of " << Describe(i) << ": got '"
                                                   << got->slug << "', want '" << r.slug
                                                   << "'");
      }
      if (r.type == "model") {
        RUN_EXPECT(got->serving == r.serving,
                   "R5/T4: serving of " << Describe(i) << " (got " << got->serving
                                        << ", want " << r.serving << ")");
      }
      RUN_EXPECT(got->own_bytes == OwnBytes(r),
                 "own bytes of " << Describe(i) << ": got " << got->own_bytes << ", want "
                                 << OwnBytes(r));
      uint32_t open = 0;
      for (size_t j : r.jobs) {
        open +=
            jobs_[j].state == JobState::kQueued || jobs_[j].state == JobState::kRunning;
      }
      RUN_EXPECT(got->open_jobs == open, "open jobs of " << Describe(i) << ": got "
                                                         << got->open_jobs << ", want "
                                                         << open);
    } else {
      ExpectRefused(got.status(), {Code::kNotFound},
                    "T2: GetResource of trashed " + Describe(i));
      auto item = engine_.GetTrashItem(ws, r.id);
      if (r.IsItem(i)) {
        ExpectOk(item.status(), "GetTrashItem of " + Describe(i));
        size_t parent = r.parent;
        RUN_EXPECT(item->internal_id == r.id && item->type == r.type &&
                       item->id == r.public_id && item->deleted_at == r.deleted_at &&
                       item->scheduled_cleanup_at == r.cleanup_at &&
                       item->deleted_by == kMemberIds[r.deleted_by] &&
                       item->hold == r.hold && item->cascaded == r.cascaded &&
                       item->parent_id == ParentId(r) &&
                       item->section == Info(r.type).section,
                   "a trash item reads back as deleted: " << Describe(i));
        if (r.type == "project") {
          RUN_EXPECT(item->cleanup_delete_images == r.cleanup_delete_images,
                     "P2: the item keeps cleanupDeleteImages");
        }
        bool parent_in_trash = parent != kNone && res_[parent].life == Life::kTrashed;
        RUN_EXPECT(item->parent_in_trash == parent_in_trash,
                   "T7: parentInTrash of " << Describe(i) << " (got "
                                           << item->parent_in_trash << ", want "
                                           << parent_in_trash << ")");
        bool numbered = Info(r.type).id_form == IdForm::kNumberedPerParent;
        auto resolved = engine_.ResolveTrashId(ws, r.type, r.public_id,
                                               numbered ? ParentId(r) : std::string());
        RUN_EXPECT(resolved.ok() && *resolved == r.id,
                   "ResolveTrashId finds "
                       << Describe(i) << ": "
                       << (resolved.ok() ? *resolved : resolved.status().ToString()));
      } else {
        ExpectRefused(item.status(), {Code::kNotFound},
                      "GetTrashItem of cascaded " + Describe(i) + " (not an item)");
      }
    }
    std::set<std::pair<std::string, std::string>> assets;
    for (auto& pair : engine_.ResourceAssets(ws, r.id)) assets.insert(pair);
    RUN_EXPECT(assets == r.assets, "the assets of " << Describe(i) << " (got "
                                                    << assets.size() << ", want "
                                                    << r.assets.size() << ")");
    for (size_t j : r.jobs) {
      auto job = engine_.GetJob(ws, jobs_[j].id);
      ExpectOk(job.status(), "GetJob of " + Describe(i));
      RUN_EXPECT(job->state == jobs_[j].state && job->resource_id == r.id,
                 "job of " << Describe(i) << " is " << JobStateName(job->state)
                           << ", want " << JobStateName(jobs_[j].state));
    }
  }

  // No purged resource is reachable, by any lookup (P1).
  void CheckPurged(size_t i, const std::set<std::string>* listed) {
    const ModelResource& r = res_[i];
    const std::string ws = Ws(r.ws);
    ExpectRefused(engine_.GetResource(ws, r.id).status(), {Code::kNotFound},
                  "P1: GetResource of purged " + Describe(i));
    ExpectRefused(engine_.GetTrashItem(ws, r.id).status(), {Code::kNotFound},
                  "P1: GetTrashItem of purged " + Describe(i));
    RUN_EXPECT(listed == nullptr || listed->count(r.id) == 0,
               "P1: purged " << Describe(i) << " is not listed in the Trash");
    bool numbered = Info(r.type).id_form == IdForm::kNumberedPerParent;
    auto resolved = engine_.ResolveTrashId(ws, r.type, r.public_id,
                                           numbered ? ParentId(r) : std::string());
    RUN_EXPECT(!resolved.ok() || *resolved != r.id,
               "P1: ResolveTrashId does not find purged " << Describe(i));
    if (!resolved.ok()) {
      ExpectRefused(resolved.status(), {Code::kNotFound}, "ResolveTrashId of purged");
    }
    RUN_EXPECT(engine_.ResourceAssets(ws, r.id).empty(),
               "P1: purged " << Describe(i) << " references no asset");
    for (size_t j : r.jobs) {
      ExpectRefused(engine_.GetJob(ws, jobs_[j].id).status(), {Code::kNotFound},
                    "P1: a job of purged " + Describe(i));
    }
  }

  // Pages through the Trash of `w` with small random pages.
  std::vector<TrashItem> ListAll(int w, const std::string& type) {
    std::vector<TrashItem> all;
    TrashQuery query;
    query.type = type;
    query.limit = 1 + Below(40);
    for (int pages = 0;; ++pages) {
      RUN_EXPECT(pages <= 100000, "the Trash listing ends");
      auto page = engine_.ListTrash(Ws(w), query);
      ExpectOk(page.status(), "ListTrash");
      RUN_EXPECT(page->items.size() <= query.limit, "a page holds at most limit items");
      all.insert(all.end(), page->items.begin(), page->items.end());
      if (page->next_cursor.empty()) break;
      query.cursor = page->next_cursor;
    }
    return all;
  }

  void CheckTrashListing(int w) {
    std::vector<TrashItem> items = ListAll(w, "");
    std::set<std::string> got, want;
    for (size_t k = 0; k < items.size(); ++k) {
      RUN_EXPECT(got.insert(items[k].internal_id).second,
                 "the Trash lists " << items[k].internal_id << " once");
      RUN_EXPECT(k == 0 || items[k - 1].deleted_at >= items[k].deleted_at,
                 "the Trash lists newest first");
    }
    for (size_t i : Items(w)) want.insert(res_[i].id);
    RUN_EXPECT(got == want, "the Trash of " << Ws(w) << " lists " << got.size()
                                            << " items, want " << want.size());
    static const char* const kTypes[] = {"project", "dataset", "workflow", "version",
                                         "model"};
    std::string type = kTypes[Below(std::size(kTypes))];
    std::set<std::string> got_typed, want_typed;
    for (const TrashItem& item : ListAll(w, type)) got_typed.insert(item.internal_id);
    for (size_t i : Items(w)) {
      if (res_[i].type == type) want_typed.insert(res_[i].id);
    }
    RUN_EXPECT(got_typed == want_typed, "the " << type << " Trash of " << Ws(w)
                                               << " lists " << got_typed.size()
                                               << " items, want " << want_typed.size());
  }

  // The files under blobs/ are exactly the assets the workspaces store.
  void CheckBlobFiles() {
    std::set<std::string> want, got;
    for (int w = 0; w < kWorkspaceCount; ++w) {
      for (const std::string& h : ws_[w].stored) {
        std::string path = engine_.BlobPath(Ws(w), h);
        RUN_EXPECT(fs::is_regular_file(path) &&
                       fs::file_size(path) == pool_[hash_index_.at(h)].size(),
                   "the blob file of a stored asset exists whole: " << path);
        want.insert(NormalPath(path));
      }
    }
    fs::path root = fs::path(env_.data_dir()) / "blobs";
    std::error_code ec;
    if (fs::exists(root, ec)) {
      for (auto it = fs::recursive_directory_iterator(root);
           it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_directory() && it->path().filename() == "temp") {
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file()) got.insert(NormalPath(it->path()));
      }
    }
    std::vector<std::string> orphaned, missing;
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                        std::back_inserter(orphaned));
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                        std::back_inserter(missing));
    std::ostringstream os;
    for (const std::string& p : orphaned) os << "\n  orphaned: " << p;
    for (const std::string& p : missing) os << "\n  missing: " << p;
    RUN_EXPECT(orphaned.empty() && missing.empty(),
               "blob files are exactly the stored assets:" << os.str());
  }

  // ---- Helpers ------------------------------------------------------------------

  const TypeInfo& Info(const std::string& type) const {
    return env_.types().Find(type)->Info();
  }

  std::string Ws(int w) const { return ws_[w].slug; }

  std::string ParentId(const ModelResource& r) const {
    return r.parent == kNone ? std::string() : res_[r.parent].id;
  }

  size_t IndexOf(const ModelResource& r) const {
    return static_cast<size_t>(&r - res_.data());
  }

  std::string Describe(size_t i) const {
    if (i == kNone) return "(workspace)";
    const ModelResource& r = res_[i];
    std::ostringstream os;
    os << r.type << " #" << i << " " << r.id;
    if (r.public_id != r.id) os << " (" << r.public_id << ")";
    os << (r.life == Life::kActive   ? " [active]"
           : r.life == Life::kPurged ? " [purged]"
           : r.item == i             ? " [item]"
                         : " [cascaded with #" + std::to_string(r.item) + "]");
    return os.str();
  }

  // The ids in one set and not the other, described.
  std::string Differences(const std::set<std::string>& got,
                          const std::set<std::string>& want) const {
    std::ostringstream os;
    auto describe = [&](const std::string& id) {
      auto found = index_.find(id);
      return found == index_.end() ? id : Describe(found->second) + Expiry(found->second);
    };
    for (const std::string& id : got) {
      if (!want.count(id)) os << "\n  unexpected: " << describe(id);
    }
    for (const std::string& id : want) {
      if (!got.count(id)) os << "\n  missing: " << describe(id);
    }
    return os.str();
  }

  std::string Expiry(size_t i) const {
    const ModelResource& r = res_[i];
    if (!r.IsItem(i)) return "";
    std::ostringstream os;
    os << " cleanup at " << r.cleanup_at << " (now " << env_.clock().Now() << ")"
       << (r.hold ? " held" : "") << (ws_[r.ws].hold ? " workspace held" : "");
    for (size_t k : Subtree(i)) {
      if (k != i && res_[k].IsItem(k) && res_[k].hold) os << ", holds " << Describe(k);
    }
    for (size_t a = r.parent; a != kNone; a = res_[a].parent) {
      if (res_[a].IsItem(a) && res_[a].hold) os << ", held inside " << Describe(a);
    }
    return os.str();
  }

  static std::string Show(const std::map<std::string, uint64_t>& m) {
    std::ostringstream os;
    os << "{";
    for (const auto& [k, v] : m) os << " " << k << "=" << v;
    os << " }";
    return os.str();
  }

  int RandomWs() { return static_cast<int>(Below(kWorkspaceCount)); }
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return Uniform() < p; }

  std::string RandomKind(const std::string& type) {
    const std::vector<std::string>& kinds = Info(type).asset_kinds;
    return kinds[Below(kinds.size())];
  }

  // A random live resource of workspace `w` that fits, in creation order (ids are
  // random, so the model never picks by id).
  size_t PickLive(int w, const std::function<bool(const ModelResource&)>& fits) {
    std::vector<size_t> candidates;
    for (size_t i : live_) {
      if (res_[i].ws == w && fits(res_[i])) candidates.push_back(i);
    }
    return candidates.empty() ? kNone : candidates[Below(candidates.size())];
  }

  // Like PickLive, over every resource ever created, purged ones included.
  size_t PickAny(int w, const std::function<bool(const ModelResource&)>& fits) {
    std::vector<size_t> candidates;
    for (size_t i = 0; i < res_.size(); ++i) {
      if (res_[i].ws == w && fits(res_[i])) candidates.push_back(i);
    }
    return candidates.empty() ? kNone : candidates[Below(candidates.size())];
  }

  size_t PickItem(int w) {
    std::vector<size_t> items = Items(w);
    return items.empty() ? kNone : items[Below(items.size())];
  }

  void Log(const std::string& what) {
    if (trace_) std::fprintf(stderr, "#%d %s\n", op_, what.c_str());
    recent_.push_back("#" + std::to_string(op_) + " " + what);
    if (recent_.size() > 30) recent_.pop_front();
  }

  void Fail(const std::string& what) {
    std::ostringstream os;
    os << what << "\n-- seed " << seed_ << " (TRASHD_PROPERTY_SEED=" << seed_
       << "), operation " << op_ << " of " << operations_ << "; last operations:";
    for (const std::string& line : recent_) os << "\n  " << line;
    FAIL(os.str());
  }

  void ExpectOk(const Status& s, const std::string& what) {
    RUN_EXPECT(s.ok(), what << " failed: " << s.ToString());
  }

  void ExpectRefused(const Status& s, std::initializer_list<Code> codes,
                     const std::string& what) {
    RUN_EXPECT(!s.ok(), what << ": expected a refusal, got OK");
    RUN_EXPECT(s.code() != Code::kInternal,
               what << ": refused as Internal: " << s.ToString());
    RUN_EXPECT(std::find(codes.begin(), codes.end(), s.code()) != codes.end(),
               what << ": refused with an unexpected code: " << s.ToString());
  }

  TestEnv& env_;
  Engine& engine_;
  std::mt19937_64 rng_;
  uint64_t seed_;
  int operations_;
  int op_ = 0;
  std::vector<std::string> pool_;
  std::vector<std::string> hashes_;
  std::unordered_map<std::string, size_t> hash_index_;
  std::array<ModelWorkspace, kWorkspaceCount> ws_;
  std::vector<ModelResource> res_;  // every resource ever created, by creation order
  std::unordered_map<std::string, size_t> index_;
  std::vector<size_t> live_;    // not purged, by creation order
  std::vector<size_t> purged_;  // purged, by purge order
  // Images of projects purged without cleanupDeleteImages: kept for good (P2).
  std::array<std::set<std::string>, kWorkspaceCount> library_;
  std::vector<ModelJob> jobs_;
  size_t real_sweeps_ = 0;
  std::deque<std::string> recent_;
  // TRASHD_PROPERTY_TRACE=1 prints every operation to stderr.
  bool trace_ = std::getenv("TRASHD_PROPERTY_TRACE") != nullptr;
};

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 0) : fallback;
}

TEST_CASE(
    "Q4 P1 S1: 10,000 random operations keep counters, references and blob files "
    "consistent",
    "[property]") {
  uint64_t seed = EnvNumber("TRASHD_PROPERTY_SEED", kDefaultSeed);
  int operations = static_cast<int>(EnvNumber("TRASHD_PROPERTY_OPS", kOperations));
  CAPTURE(seed, operations);
  TestEnv env;
  PropertyRun run(env, seed, operations);
  run.Run();
}

}  // namespace
}  // namespace trashd
