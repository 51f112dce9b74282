#include "raw_floor.h"

#include <lmdb.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string_view>

#include "store/schema.h"

namespace trashd::bench {
namespace {

// The floor's tables: the engine's, by the same names (store.h).
enum Tbl : int {
  kResources,
  kChildren,
  kSlugs,
  kTrashByTime,
  kTrashByType,
  kExpiry,
  kCounters,
  kAudit,
  kOutbox,
  kJobsByResource,
  kResourceAssets,
  kAssetRefs,
  kAssets,
  kTblCount
};
constexpr std::array<const char*, kTblCount> kTblNames = {
    "resources",       "children",   "slugs", "trash_by_time", "trash_by_type",
    "expiry",          "counters",   "audit", "outbox",        "jobs_by_resource",
    "resource_assets", "asset_refs", "assets"};

constexpr char kWs[] = "bench";
constexpr int64_t kDay = 24LL * 60 * 60 * 1000;
constexpr int64_t kT0 = 1776704733000;  // 2026-04-20T17:05:33Z, as the tests' clock

void Die(const char* what, int rc) {
  std::fprintf(stderr, "raw floor: %s: %s\n", what, mdb_strerror(rc));
  std::exit(1);
}
void Fail(const char* what) {
  std::fprintf(stderr, "raw floor: %s\n", what);
  std::exit(1);
}
void Ok(int rc, const char* what) {
  if (rc != 0) Die(what, rc);
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// Record values: [state][slug length][slug][filler...][trash item id when trashed].
// The floor reads only these first bytes: it stands for a store that needs no decoding.
constexpr char kActive = 'a';
constexpr char kTrashed = 't';

std::string Filler(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s[i] = static_cast<char>('a' + x % 26);
  }
  return s;
}

std::string Record(std::string_view slug, size_t size, uint64_t seed) {
  std::string r;
  r.push_back(kActive);
  r.push_back(static_cast<char>(slug.size()));
  r.append(slug);
  if (r.size() < size) r += Filler(size - r.size(), seed);
  return r;
}
std::string_view RecordSlug(std::string_view rec) {
  return rec.substr(2, static_cast<uint8_t>(rec[1]));
}

// Ids as the engine makes them: "<prefix>_", the creation time in 10 characters of
// base32, then 10 random ones; so ids made together sort together.
std::string OpaqueId(std::string_view prefix, int64_t created, uint64_t n) {
  static constexpr char kB32[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string id(prefix);
  id.push_back('_');
  auto t = static_cast<uint64_t>(created);
  for (int shift = 45; shift >= 0; shift -= 5) id.push_back(kB32[(t >> shift) & 31]);
  uint64_t x = n * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull;
  for (int i = 0; i < 10; ++i) {
    x ^= x >> 29, x *= 0xBF58476D1CE4E5B9ull, x ^= x >> 32;
    id.push_back(kB32[x % 32]);
  }
  return id;
}

class RawEnv {
 public:
  RawEnv(const std::string& dir, bool no_sync) : dir_(dir), no_sync_(no_sync) { Open(); }
  ~RawEnv() { mdb_env_close(env_); }
  RawEnv(const RawEnv&) = delete;
  RawEnv& operator=(const RawEnv&) = delete;

  // Closes and opens the environment again, with MDB_NOSYNC or without. LMDB keeps the
  // dirty pages of past write transactions on a free list until the environment
  // closes, so a floor reopens after its build to measure only its own heap.
  void Reopen(bool no_sync) {
    mdb_env_close(env_);
    env_ = nullptr;
    no_sync_ = no_sync;
    Open();
  }

  MDB_env* env() { return env_; }
  MDB_dbi dbi(Tbl t) const { return dbi_[t]; }

  MDB_txn* Begin(bool read_only = false) {
    MDB_txn* txn;
    Ok(mdb_txn_begin(env_, nullptr, read_only ? MDB_RDONLY : 0, &txn), "mdb_txn_begin");
    return txn;
  }
  static void Commit(MDB_txn* txn) { Ok(mdb_txn_commit(txn), "mdb_txn_commit"); }

 private:
  void Open() {
    Ok(mdb_env_create(&env_), "mdb_env_create");
    mdb_env_set_maxdbs(env_, kTblCount + 2);
    Ok(mdb_env_set_mapsize(env_, 4ull << 30),
       "mdb_env_set_mapsize");   // as the engine's bench store
    unsigned flags = MDB_NOTLS;  // as the store opens its environment
    if (no_sync_) flags |= MDB_NOSYNC;
    Ok(mdb_env_open(env_, dir_.c_str(), flags, 0640), "mdb_env_open");
    MDB_txn* txn = Begin();
    for (int i = 0; i < kTblCount; ++i) {
      Ok(mdb_dbi_open(txn, kTblNames[i], MDB_CREATE, &dbi_[i]), "mdb_dbi_open");
    }
    Commit(txn);
  }

 public:
  void Put(MDB_txn* txn, Tbl t, std::string_view k, std::string_view v) {
    MDB_val kv = Val(k), vv = Val(v);
    Ok(mdb_put(txn, dbi_[t], &kv, &vv, 0), "mdb_put");
  }
  bool Get(MDB_txn* txn, Tbl t, std::string_view k, std::string_view* v) {
    MDB_val kv = Val(k), vv;
    int rc = mdb_get(txn, dbi_[t], &kv, &vv);
    if (rc == MDB_NOTFOUND) return false;
    Ok(rc, "mdb_get");
    *v = View(vv);
    return true;
  }
  void Del(MDB_txn* txn, Tbl t, std::string_view k) {
    MDB_val kv = Val(k);
    Ok(mdb_del(txn, dbi_[t], &kv, nullptr), "mdb_del");
  }
  // Adds `delta` to an 8-byte counter.
  void Bump(MDB_txn* txn, std::string_view name, int64_t delta) {
    std::string_view old;
    uint64_t v = Get(txn, kCounters, name, &old) ? schema::DecodeNumber(old) : 0;
    Put(txn, kCounters, name, schema::EncodeNumber(v + static_cast<uint64_t>(delta)));
  }
  // Whether any key starts with `prefix` (the engine's scan for a resource's jobs).
  bool AnyWithPrefix(MDB_txn* txn, Tbl t, std::string_view prefix) {
    MDB_cursor* c;
    Ok(mdb_cursor_open(txn, dbi_[t], &c), "mdb_cursor_open");
    MDB_val k = Val(prefix), v;
    bool any = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) == 0 &&
               View(k).substr(0, prefix.size()) == prefix;
    mdb_cursor_close(c);
    return any;
  }
  // Appends one audit record and one outbox event, as every engine operation does.
  void Log(MDB_txn* txn, std::string_view ws, const RecordSizes& sizes) {
    ++seq_;
    Put(txn, kAudit, schema::AuditKey{ws, seq_}.Encode(), Filler(sizes.audit, seq_));
    Put(txn, kOutbox, schema::OutboxKey{seq_}.Encode(), Filler(sizes.event, seq_));
  }

 private:
  std::string dir_;
  bool no_sync_;
  MDB_env* env_ = nullptr;
  std::array<MDB_dbi, kTblCount> dbi_{};
  uint64_t seq_ = 0;
};

std::string CounterKey(std::string_view name, std::string_view ws = kWs) {
  return schema::CounterKey{ws, name}.Encode();
}

// Calls fn(id, type) for every descendant of `parent`, depth first, with one cursor per
// level and no list of ids held in memory. Like the engine, it does not look for
// children of a type that no type has as a parent (models).
template <typename Fn>
void WalkChildren(RawEnv& env, MDB_txn* txn, std::string_view parent, const Fn& fn) {
  MDB_cursor* c;
  Ok(mdb_cursor_open(txn, env.dbi(kChildren), &c), "mdb_cursor_open");
  std::string prefix = schema::ChildrenPrefix(kWs, parent);
  MDB_val k = Val(prefix), v;
  int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
  while (rc == 0 && View(k).substr(0, prefix.size()) == prefix) {
    // Copy out of the page: the pages of this transaction change under us.
    char id_buf[64], type_buf[32];
    schema::ChildKey child;
    if (!schema::ChildKey::Decode(View(k), &child)) Fail("children: malformed key");
    std::string_view type = child.type, id = child.id;
    std::memcpy(type_buf, type.data(), type.size());
    std::memcpy(id_buf, id.data(), id.size());
    std::string_view id_copy(id_buf, id.size()), type_copy(type_buf, type.size());
    fn(id_copy, type_copy);
    if (type_copy != "model") WalkChildren(env, txn, id_copy, fn);
    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(c);
}

}  // namespace

std::string Describe(const RecordSizes& s) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "resource=%zuB(+%zuB trashed) audit=%zuB event=%zuB",
                s.resource, s.trashed_extra, s.audit, s.event);
  return buf;
}

// ---- Cascade ---------------------------------------------------------------------
//
// The engine's Trash of a project (engine_trash.cc): for the project and every
// descendant, a read of its children index range and of its record, a rewrite of the
// record (state, trash item); for a resource holding assets, its resource_assets range
// and a rewrite of each asset record (live references, holder). Only the project's
// slug entry goes (the descendants' slugs are scoped by the project, which travels
// too). Then the three index entries of the one trash item, the usage counters (each
// written once), one audit record and one event. Restore is the same walk backwards.

struct CascadeFloor::Env : RawEnv {
  using RawEnv::RawEnv;
  std::string project;
};

CascadeFloor::CascadeFloor(const std::string& dir, const CascadeShape& shape)
    : env_(std::make_unique<Env>(dir, /*no_sync=*/true)), shape_(shape) {}
CascadeFloor::~CascadeFloor() = default;

namespace {

constexpr char kWithAsset = 'A';  // the record's byte 1 of the filler: holds an asset

std::string AssetRecord(uint64_t seed) { return Filler(48, seed); }

// Which counters a cascade changes; the floor adds up in memory and writes each once.
void WriteCascadeCounters(RawEnv& e, MDB_txn* txn, uint64_t asset_bytes, int64_t items) {
  auto delta = static_cast<int64_t>(asset_bytes);
  e.Bump(txn, CounterKey("type_active/model"), -delta * items);
  e.Bump(txn, CounterKey("type_trash/model"), delta * items);
  e.Bump(txn, CounterKey("active_bytes"), -delta * items);
  e.Bump(txn, CounterKey("trash_bytes"), delta * items);
  e.Bump(txn, CounterKey("trash_items"), items);
}

// Reads the asset references of resource `id` and rewrites each asset's record.
uint64_t TouchAssets(RawEnv& e, MDB_txn* txn, std::string_view id) {
  MDB_cursor* c;
  Ok(mdb_cursor_open(txn, e.dbi(kResourceAssets), &c), "mdb_cursor_open");
  std::string prefix = schema::ResourceAssetsPrefix(id);
  MDB_val k = Val(prefix), v;
  uint64_t n = 0;
  std::string hash_key, asset;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
       rc == 0 && View(k).substr(0, prefix.size()) == prefix;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    schema::ResourceAssetKey ref;
    if (!schema::ResourceAssetKey::Decode(View(k), &ref)) continue;
    hash_key = schema::AssetKey{kWs, ref.hash}.Encode();
    std::string_view old;
    if (!e.Get(txn, kAssets, hash_key, &old)) continue;
    asset.assign(old);
    asset[0] ^= 1;  // live references / holder change
    e.Put(txn, kAssets, hash_key, asset);
    ++n;
  }
  mdb_cursor_close(c);
  return n;
}

}  // namespace

void CascadeFloor::Build() {
  Env& e = *env_;
  const RecordSizes& sz = shape_.sizes;
  int64_t t = kT0;
  e.project = OpaqueId("p", t, 0);
  MDB_txn* txn = e.Begin();
  auto add = [&](const std::string& id, std::string_view type, const std::string& parent,
                 const std::string& scope, const std::string& slug, uint64_t seed,
                 bool with_asset) {
    std::string rec = Record(slug, sz.resource, seed);
    if (with_asset) rec[2 + slug.size()] = kWithAsset;
    e.Put(txn, kResources, id, rec);
    e.Put(txn, kChildren, schema::ChildKey{kWs, parent, type, id}.Encode(), "");
    e.Put(txn, kSlugs, schema::SlugKey{kWs, scope, type, slug}.Encode(), id);
  };
  add(e.project, "project", "", "", "big-project", 0, false);
  uint64_t n = 1;
  for (uint64_t v = 0; v < shape_.versions; ++v) {
    t += 60 * 1000;
    std::string vid = e.project + "." + std::to_string(v + 1);  // numbered per parent
    add(vid, "version", e.project, e.project, std::to_string(v + 1), n++, false);
    for (uint64_t m = 0; m < shape_.models_per_version; ++m) {
      t += 1000;
      std::string mid = OpaqueId("m", t, n);
      bool with_asset = shape_.asset_every && m % shape_.asset_every == 0;
      add(mid, "model", vid, e.project,
          "m-" + std::to_string(v) + "-" + std::to_string(m), n++, with_asset);
      if (with_asset) {
        std::string hash = Filler(64, n);
        e.Put(txn, kResourceAssets,
              schema::ResourceAssetKey{mid, "weights", hash}.Encode(), "");
        e.Put(txn, kAssetRefs, schema::AssetRefKey{kWs, hash, mid, "weights"}.Encode(),
              "");
        e.Put(txn, kAssets, schema::AssetKey{kWs, hash}.Encode(), AssetRecord(n));
      }
    }
  }
  RawEnv::Commit(txn);
  e.Reopen(/*no_sync=*/true);
}

double CascadeFloor::Trash(HeapMeter& heap) {
  Env& e = *env_;
  const RecordSizes& sz = shape_.sizes;
  const size_t stamp = std::min(sz.trashed_extra, e.project.size());
  touched_ = 0;
  return TimeWithHeap(heap, [&] {
    MDB_txn* txn = e.Begin();
    std::string buf;
    uint64_t assets = 0;
    auto trash_one = [&](std::string_view id) {
      std::string_view rec;
      if (!e.Get(txn, kResources, id, &rec) || rec[0] != kActive) return;
      buf.assign(rec);
      buf[0] = kTrashed;
      buf.append(sz.trashed_extra, 'x');
      std::memcpy(buf.data() + buf.size() - stamp, e.project.data(), stamp);
      if (buf[2 + static_cast<uint8_t>(buf[1])] == kWithAsset) {
        assets += TouchAssets(e, txn, id);
      }
      e.Put(txn, kResources, id, buf);
      ++touched_;
    };
    trash_one(e.project);
    e.Del(txn, kSlugs, schema::SlugKey{kWs, "", "project", "big-project"}.Encode());
    WalkChildren(e, txn, e.project,
                 [&](std::string_view id, std::string_view) { trash_one(id); });
    int64_t at = kT0;
    e.Put(txn, kTrashByTime, schema::TrashByTimeKey{kWs, at, e.project}.Encode(), "");
    e.Put(txn, kTrashByType,
          schema::TrashByTypeKey{kWs, "project", at, e.project}.Encode(), "");
    e.Put(txn, kExpiry, schema::ExpiryKey{at + 30 * kDay, kWs, e.project}.Encode(), "");
    WriteCascadeCounters(e, txn, 1024 * assets, 1);
    e.Log(txn, kWs, sz);
    RawEnv::Commit(txn);
  });
}

double CascadeFloor::Restore(HeapMeter& heap) {
  Env& e = *env_;
  const RecordSizes& sz = shape_.sizes;
  const size_t stamp = std::min(sz.trashed_extra, e.project.size());
  touched_ = 0;
  return TimeWithHeap(heap, [&] {
    MDB_txn* txn = e.Begin();
    std::string buf;
    uint64_t assets = 0;
    auto restore_one = [&](std::string_view id) {
      std::string_view rec;
      if (!e.Get(txn, kResources, id, &rec) || rec[0] != kTrashed) return;
      if (rec.substr(rec.size() - stamp) !=
          std::string_view(e.project).substr(0, stamp)) {
        return;  // trashed on its own before (T7): stays
      }
      buf.assign(rec.substr(0, rec.size() - sz.trashed_extra));
      buf[0] = kActive;
      if (buf[2 + static_cast<uint8_t>(buf[1])] == kWithAsset) {
        assets += TouchAssets(e, txn, id);
      }
      e.Put(txn, kResources, id, buf);
      ++touched_;
    };
    restore_one(e.project);
    std::string slug_key = schema::SlugKey{kWs, "", "project", "big-project"}.Encode();
    std::string_view taken;
    if (e.Get(txn, kSlugs, slug_key, &taken)) Fail("cascade floor: slug taken");
    e.Put(txn, kSlugs, slug_key, e.project);
    WalkChildren(e, txn, e.project,
                 [&](std::string_view id, std::string_view) { restore_one(id); });
    int64_t at = kT0;
    e.Del(txn, kTrashByTime, schema::TrashByTimeKey{kWs, at, e.project}.Encode());
    e.Del(txn, kTrashByType,
          schema::TrashByTypeKey{kWs, "project", at, e.project}.Encode());
    e.Del(txn, kExpiry, schema::ExpiryKey{at + 30 * kDay, kWs, e.project}.Encode());
    WriteCascadeCounters(e, txn, 1024 * assets, -1);
    e.Log(txn, kWs, sz);
    RawEnv::Commit(txn);
  });
}

// ---- A trash of many top-level items (sweep and list) ----------------------------

std::string TrashSetWorkspace(const TrashSetShape& shape, uint64_t i) {
  return shape.workspaces > 1 ? std::string(kWs) + std::to_string(i % shape.workspaces)
                              : std::string(kWs);
}

int64_t TrashSetDeletedAt(const TrashSetShape& shape, uint64_t i, int64_t start) {
  return start + static_cast<int64_t>(i * kTrashSetDays * kDay / shape.items);
}

namespace {

// Item i of a trash set: its workspace, id and times. Items are deleted over 100 days,
// in id order; the first `expired` of them are past their scheduled cleanup.
struct SetItem {
  std::string ws;
  std::string id;
  int64_t deleted_at;
  int64_t cleanup_at;
};

SetItem ItemOf(const TrashSetShape& shape, uint64_t i) {
  SetItem it;
  it.ws = TrashSetWorkspace(shape, i);
  it.deleted_at = TrashSetDeletedAt(shape, i, kT0);
  it.id = OpaqueId("wf", it.deleted_at, i);
  it.cleanup_at = it.deleted_at + 30 * kDay;
  return it;
}

struct SetKeys {
  std::string child, by_time, by_type, expiry;
};
SetKeys KeysOf(const SetItem& it) {
  return {schema::ChildKey{it.ws, "", "workflow", it.id}.Encode(),
          schema::TrashByTimeKey{it.ws, it.deleted_at, it.id}.Encode(),
          schema::TrashByTypeKey{it.ws, "workflow", it.deleted_at, it.id}.Encode(),
          schema::ExpiryKey{it.cleanup_at, it.ws, it.id}.Encode()};
}

// Writes the set in transactions of 100,000 items, then reopens the environment
// (durable: without MDB_NOSYNC from then on).
void BuildTrashSet(RawEnv& e, const TrashSetShape& shape, bool durable) {
  const RecordSizes& sz = shape.sizes;
  const uint64_t kPerTxn = 100000;
  for (uint64_t start = 0; start < shape.items; start += kPerTxn) {
    MDB_txn* txn = e.Begin();
    for (uint64_t i = start; i < std::min(shape.items, start + kPerTxn); ++i) {
      SetItem it = ItemOf(shape, i);
      SetKeys k = KeysOf(it);
      std::string rec = Record("wf-" + std::to_string(i), sz.resource, i);
      rec[0] = kTrashed;
      rec.append(sz.trashed_extra, 'x');
      e.Put(txn, kResources, it.id, rec);
      e.Put(txn, kChildren, k.child, "");
      e.Put(txn, kTrashByTime, k.by_time, std::string(sz.trash_index, 'i'));
      e.Put(txn, kTrashByType, k.by_type, std::string(sz.trash_index, 'i'));
      e.Put(txn, kExpiry, k.expiry, "");
    }
    RawEnv::Commit(txn);
  }
  Ok(mdb_env_sync(e.env(), 1), "mdb_env_sync");
  e.Reopen(/*no_sync=*/!durable);
}

}  // namespace

struct SweepFloor::Env : RawEnv {
  using RawEnv::RawEnv;
};

SweepFloor::SweepFloor(const std::string& dir, const TrashSetShape& shape)
    : env_(std::make_unique<Env>(dir, /*no_sync=*/true)), shape_(shape) {}
SweepFloor::~SweepFloor() = default;

void SweepFloor::Build() { BuildTrashSet(*env_, shape_, /*durable=*/true); }

double SweepFloor::Run(size_t batch, bool random, HeapMeter& heap) {
  Env& e = *env_;
  // Which items go, in which order: made before the clock starts. Item i expires
  // before item i + 1, so index order is expiry order.
  std::vector<uint32_t> order(shape_.expired);
  std::iota(order.begin(), order.end(), 0);
  if (random) std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  deleted_ = 0;
  return TimeWithHeap(heap, [&] {
    for (size_t start = 0; start < order.size(); start += batch) {
      MDB_txn* txn = e.Begin();
      size_t end = std::min(order.size(), start + batch);
      for (size_t j = start; j < end; ++j) {
        SetItem it = ItemOf(shape_, order[j]);
        SetKeys k = KeysOf(it);
        std::string_view rec;
        if (!e.Get(txn, kResources, it.id, &rec)) Fail("sweep floor: missing record");
        e.Del(txn, kResources, it.id);
        e.Del(txn, kChildren, k.child);
        e.Del(txn, kTrashByTime, k.by_time);
        e.Del(txn, kTrashByType, k.by_type);
        e.Del(txn, kExpiry, k.expiry);
        e.AnyWithPrefix(txn, kChildren, schema::ChildrenPrefix(it.ws, it.id));
        e.AnyWithPrefix(txn, kJobsByResource, schema::JobsByResourcePrefix(it.id));
        e.Log(txn, it.ws, shape_.sizes);
        ++deleted_;
      }
      for (uint64_t w = 0; w < shape_.workspaces; ++w) {
        e.Bump(
            txn, CounterKey("trash_items", TrashSetWorkspace(shape_, w)),
            -static_cast<int64_t>(end - start) / static_cast<int64_t>(shape_.workspaces));
      }
      RawEnv::Commit(txn);
    }
  });
}

struct ListFloor::Env : RawEnv {
  using RawEnv::RawEnv;
};

ListFloor::ListFloor(const std::string& dir, const TrashSetShape& shape)
    : env_(std::make_unique<Env>(dir, /*no_sync=*/true)), shape_(shape) {}
ListFloor::~ListFloor() = default;

void ListFloor::Build() { BuildTrashSet(*env_, shape_, /*durable=*/false); }

std::vector<double> ListFloor::Run(size_t calls, size_t limit) {
  Env& e = *env_;
  std::vector<double> ms;
  ms.reserve(calls);
  std::string ws = ItemOf(shape_, 0).ws;
  std::string prefix = schema::TrashByTimePrefix(ws);
  std::vector<std::string> page;  // what a caller gets back: copies of the records
  page.reserve(limit);
  for (size_t call = 0; call < calls; ++call) {
    Stopwatch watch;
    page.clear();
    MDB_txn* txn = e.Begin(/*read_only=*/true);
    MDB_cursor* c;
    Ok(mdb_cursor_open(txn, e.dbi(kTrashByTime), &c), "mdb_cursor_open");
    MDB_val k = Val(prefix), v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && page.size() < limit && View(k).substr(0, prefix.size()) == prefix) {
      schema::TrashByTimeKey item;
      std::string_view rec;
      if (schema::TrashByTimeKey::Decode(View(k), &item) &&
          e.Get(txn, kResources, item.id, &rec)) {
        page.emplace_back(rec);
      }
      rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    ms.push_back(watch.Ms());
    if (page.size() != std::min<uint64_t>(limit, shape_.items))
      Fail("list floor: short page");
  }
  return ms;
}

// ---- Single durable deletes ------------------------------------------------------

struct DeletesFloor::Env : RawEnv {
  using RawEnv::RawEnv;
};

DeletesFloor::DeletesFloor(const std::string& dir, uint64_t items,
                           const RecordSizes& sizes)
    : env_(std::make_unique<Env>(dir, /*no_sync=*/true)), items_(items), sizes_(sizes) {}
DeletesFloor::~DeletesFloor() = default;

const char* DeletesFloor::SyncMode() {
  return "lmdb default (no MDB_NOSYNC/MDB_NOMETASYNC): fdatasync of data + meta per "
         "commit";
}

void DeletesFloor::Build() {
  Env& e = *env_;
  MDB_txn* txn = e.Begin();
  for (uint64_t i = 0; i < items_; ++i) {
    std::string id = OpaqueId("wf", kT0 + static_cast<int64_t>(i), i);
    std::string slug = "wf-" + std::to_string(i);
    e.Put(txn, kResources, id, Record(slug, sizes_.resource, i));
    e.Put(txn, kChildren, schema::ChildKey{kWs, "", "workflow", id}.Encode(), "");
    e.Put(txn, kSlugs, schema::SlugKey{kWs, "", "workflow", slug}.Encode(), id);
  }
  RawEnv::Commit(txn);
  Ok(mdb_env_sync(e.env(), 1), "mdb_env_sync");
  e.Reopen(/*no_sync=*/false);  // from here on every commit is durable
}

double DeletesFloor::Run(uint64_t from, uint64_t to) {
  Env& e = *env_;
  Stopwatch watch;
  {
    std::string buf;
    for (uint64_t i = from; i < std::min(to, items_); ++i) {
      std::string id = OpaqueId("wf", kT0 + static_cast<int64_t>(i), i);
      int64_t at = kT0 + static_cast<int64_t>(i) * 1000;
      MDB_txn* txn = e.Begin();
      std::string_view rec;
      if (!e.Get(txn, kResources, id, &rec)) Fail("deletes floor: missing record");
      buf.assign(rec);
      buf[0] = kTrashed;
      buf.append(sizes_.trashed_extra, 'x');
      e.Del(txn, kSlugs, schema::SlugKey{kWs, "", "workflow", RecordSlug(buf)}.Encode());
      e.Put(txn, kResources, id, buf);
      e.AnyWithPrefix(txn, kChildren, schema::ChildrenPrefix(kWs, id));
      e.Put(txn, kTrashByTime, schema::TrashByTimeKey{kWs, at, id}.Encode(), "");
      e.Put(txn, kTrashByType, schema::TrashByTypeKey{kWs, "workflow", at, id}.Encode(),
            "");
      e.Put(txn, kExpiry, schema::ExpiryKey{at + 30 * kDay, kWs, id}.Encode(), "");
      e.Bump(txn, CounterKey("trash_items"), 1);
      e.Log(txn, kWs, sizes_);
      RawEnv::Commit(txn);
    }
  }
  return watch.Ms();
}

}  // namespace trashd::bench
