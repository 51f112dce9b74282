// Usage (Q1) and fsck (Q4): the stored counters, and a recount from scratch.
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "assets/blob_claims.h"
#include "engine/engine_impl.h"

namespace trashd {

Result<Usage> Engine::GetUsage(std::string_view ws) {
  auto txn = impl_->store->BeginRead();
  Workspace w;
  if (!Impl::LoadWorkspace(*txn, ws, &w))
    return Impl::Missing(*txn, NotFound("no workspace " + std::string(ws)));
  Usage u;
  u.quota_bytes = w.quota_bytes;
  u.active_bytes = QuotaLedger::Get(*txn, ws, QuotaLedger::kActiveBytes);
  u.trash_bytes = QuotaLedger::Get(*txn, ws, QuotaLedger::kTrashBytes);
  u.trash_items = QuotaLedger::Get(*txn, ws, QuotaLedger::kTrashItems);
  for (const ResourceType* t : impl_->types->All()) {
    const std::string& name = t->Info().name;
    u.active_by_type[name] = QuotaLedger::Get(*txn, ws, QuotaLedger::ActiveByType(name));
    u.trash_by_type[name] = QuotaLedger::Get(*txn, ws, QuotaLedger::TrashByType(name));
  }
  if (!txn->status().ok()) return txn->status();
  return u;
}

// One fsck run (Q4): reads every table once in one snapshot, recounts from scratch,
// and notes each difference in the report. Each check reads one table or index; the
// recount (counters, references, item sizes) is shared by the checks that need it.
class Engine::Impl::FsckRun {
 public:
  FsckRun(const Impl& impl, ReadTxn& txn, FsckReport* report)
      : impl_(impl), txn_(txn), report_(*report) {}

  void ReadResources();
  void ReadJobs();
  void CheckResources();
  void CheckResourceAssets();
  void CheckAssetRefs();
  void CheckAssets();
  void CheckResourceBytes();
  void CheckTrashIndexes();
  void CheckChildren();
  void CheckSlugs();
  void CheckCounters();
  void CheckBlobFiles();

 private:
  using WsKey = std::pair<std::string, std::string>;  // (ws, name or hash)

  void Diff(std::string what) { report_.differences.push_back(std::move(what)); }
  template <typename A, typename B>
  void Expect(const std::string& what, const A& stored, const B& counted) {
    if (stored != counted) {
      Diff(what + ": stored " + std::to_string(stored) + ", recounted " +
           std::to_string(counted));
    }
  }
  bool IsItem(std::string_view id) const {
    auto it = res_.find(std::string(id));
    return it != res_.end() && it->second.is_item();
  }
  // Notes a stale entry for each key of `t` that `valid` refuses.
  void CheckStale(Table t, const std::function<bool(std::string_view)>& valid);

  // Per resource, in this order: its type, its entries, its parent, its trash item.
  void CheckChildEntry(const ResourceRec& r);
  void CheckParent(const ResourceRec& r);
  void CheckSlugEntry(const ResourceRec& r);
  void RecountTrash(const ResourceRec& r);
  void CheckItemEntries(const ResourceRec& r);
  // Per asset: its references, holder and usage, then its blob file.
  void CheckAsset(const std::string& ws, const std::string& hash, const AssetRec& a);
  void CheckBlobFile(const std::string& what, const std::string& ws,
                     const std::string& hash, uint64_t bytes);

  const Impl& impl_;
  ReadTxn& txn_;
  FsckReport& report_;
  std::unordered_map<std::string, ResourceRec> res_;  // everything, by id
  std::unordered_map<std::string, uint64_t> open_jobs_;
  // The recount.
  std::map<WsKey, uint64_t> counters_;                    // (ws, counter name)
  std::unordered_map<std::string, uint64_t> members_of_;  // item -> resources
  std::map<WsKey, std::pair<uint64_t, uint64_t>> refs_;   // asset -> (all, live)
  std::unordered_map<std::string, std::set<std::string>> hashes_of_;  // resource
  std::unordered_map<std::string, uint64_t> ref_count_;  // resource -> references
  std::unordered_map<std::string, uint64_t> item_size_;
  std::set<WsKey> assets_;
};

void Engine::Impl::FsckRun::ReadResources() {
  txn_.ScanPrefix(Table::kResources, "", [&](std::string_view k, std::string_view v) {
    ResourceRec r;
    if (!ResourceRec::Decode(v, &r)) {
      Diff("resource " + std::string(k) + ": record does not decode");
    } else {
      res_.emplace(r.id, std::move(r));
    }
    return true;
  });
  report_.resources = res_.size();
}

void Engine::Impl::FsckRun::ReadJobs() {
  txn_.ScanPrefix(Table::kJobs, "", [&](std::string_view, std::string_view v) {
    Job j;
    if (DecodeJob(v, &j) &&
        (j.state == JobState::kQueued || j.state == JobState::kRunning)) {
      open_jobs_[j.resource_id]++;
    }
    return true;
  });
}

void Engine::Impl::FsckRun::CheckResources() {
  for (const auto& [id, r] : res_) {
    if (!impl_.TypeOf(r.type)) Diff("resource " + id + ": unknown type " + r.type);
    CheckChildEntry(r);
    CheckParent(r);
    CheckSlugEntry(r);
    Expect("resource " + id + " open jobs", static_cast<uint64_t>(r.open_jobs),
           open_jobs_[id]);
    RecountTrash(r);
    if (r.is_item()) CheckItemEntries(r);
  }
  for (const auto& [id, r] : res_) {
    if (r.is_item()) Expect("item " + id + " cascaded", r.cascaded, members_of_[id] - 1);
  }
}

void Engine::Impl::FsckRun::CheckChildEntry(const ResourceRec& r) {
  if (!txn_.Has(Table::kChildren,
                schema::ChildKey{r.ws, r.parent_id, r.type, r.id}.Encode())) {
    Diff("resource " + r.id + ": missing from the children index");
  }
}

void Engine::Impl::FsckRun::CheckParent(const ResourceRec& r) {
  if (r.parent_id.empty()) return;
  auto p = res_.find(r.parent_id);
  if (p == res_.end() || p->second.ws != r.ws) {
    Diff("resource " + r.id + ": parent " + r.parent_id + " is missing");
  } else if (r.state == ResourceState::kActive &&
             p->second.state == ResourceState::kTrashed) {
    Diff("resource " + r.id + ": active under a trashed parent");
  }
}

void Engine::Impl::FsckRun::CheckSlugEntry(const ResourceRec& r) {
  std::string_view slug_owner;
  bool has_slug =
      txn_.Get(Table::kSlugs, schema::SlugKey{r.ws, r.scope_id, r.type, r.slug}.Encode(),
               &slug_owner);
  if (!r.slug_released && (!has_slug || slug_owner != r.id)) {
    Diff("resource " + r.id + ": slug " + r.slug + " is not indexed to it");
  }
  if (r.state == ResourceState::kActive && r.slug_released) {
    Diff("resource " + r.id + ": active with a released slug");
  }
}

// Counts the resource's own bytes as active or trash, and, trashed, as a member of its
// trash item, which must exist.
void Engine::Impl::FsckRun::RecountTrash(const ResourceRec& r) {
  if (r.state == ResourceState::kTrashed) {
    auto it = res_.find(r.trash_item);
    if (it == res_.end() || !it->second.is_item()) {
      Diff("resource " + r.id + ": its trash item " + r.trash_item + " is missing");
    }
    members_of_[r.trash_item]++;
    counters_[{r.ws, QuotaLedger::TrashByType(r.type)}] += r.own_bytes;
  } else {
    counters_[{r.ws, QuotaLedger::ActiveByType(r.type)}] += r.own_bytes;
  }
}

// A trash item: counted, listed by time and by type, in the expiry index unless held,
// and inside a container that is itself a trash item.
void Engine::Impl::FsckRun::CheckItemEntries(const ResourceRec& r) {
  const std::string& id = r.id;
  counters_[{r.ws, QuotaLedger::kTrashItems}]++;
  if (!txn_.Has(Table::kTrashByTime,
                schema::TrashByTimeKey{r.ws, r.deleted_at, r.id}.Encode()) ||
      !txn_.Has(Table::kTrashByType,
                schema::TrashByTypeKey{r.ws, r.type, r.deleted_at, r.id}.Encode())) {
    Diff("item " + id + ": missing from the trash listing indexes");
  }
  bool in_expiry = txn_.Has(
      Table::kExpiry, schema::ExpiryKey{r.scheduled_cleanup_at, r.ws, r.id}.Encode());
  if (in_expiry == r.hold) {
    Diff("item " + id +
         (r.hold ? ": held but in the expiry index" : ": missing from the expiry index"));
  }
  if (!r.container.empty() && !IsItem(r.container)) {
    Diff("item " + id + ": its container " + r.container + " is not a trash item");
  }
}

// References, resource to asset: each mirrored in kAssetRefs; recounts them per asset
// (all and live) and per resource.
void Engine::Impl::FsckRun::CheckResourceAssets() {
  txn_.ScanPrefix(Table::kResourceAssets, "", [&](std::string_view k, auto) {
    schema::ResourceAssetKey ref;
    if (!schema::ResourceAssetKey::Decode(k, &ref)) {
      Diff("resource_assets: malformed key");
      return true;
    }
    std::string rid(ref.resource_id), kind(ref.kind), hash(ref.hash);
    std::string ws;
    bool live = true;
    if (IsLibraryId(rid)) {
      ws = rid.substr(5);
    } else {
      auto it = res_.find(rid);
      if (it == res_.end()) {
        Diff("reference of missing resource " + rid + " to " + hash);
        return true;
      }
      ws = it->second.ws;
      live =
          it->second.state == ResourceState::kActive || !impl_.Releases(it->second, kind);
      hashes_of_[rid].insert(hash);
      ref_count_[rid]++;
    }
    if (!txn_.Has(Table::kAssetRefs, schema::AssetRefKey{ws, hash, rid, kind}.Encode())) {
      Diff("reference " + rid + " -> " + hash + ": missing from asset_refs");
    }
    auto& c = refs_[{ws, hash}];
    c.first++;
    if (live) c.second++;
    return true;
  });
}

// References, asset to resource: each the mirror of a kResourceAssets entry.
void Engine::Impl::FsckRun::CheckAssetRefs() {
  txn_.ScanPrefix(Table::kAssetRefs, "", [&](std::string_view k, auto) {
    schema::AssetRefKey ref;
    if (!schema::AssetRefKey::Decode(k, &ref) ||
        !txn_.Has(
            Table::kResourceAssets,
            schema::ResourceAssetKey{ref.resource_id, ref.kind, ref.hash}.Encode())) {
      Diff("asset_refs entry without its resource_assets mirror");
    }
    return true;
  });
}

// Assets: counts, holders, usage and files; then references to no asset.
void Engine::Impl::FsckRun::CheckAssets() {
  txn_.ScanPrefix(Table::kAssets, "", [&](std::string_view k, std::string_view v) {
    schema::AssetKey key;
    AssetRec a;
    if (!schema::AssetKey::Decode(k, &key) || !AssetRec::Decode(v, &a)) {
      Diff("asset record does not decode");
      return true;
    }
    CheckAsset(std::string(key.ws), std::string(key.hash), a);
    report_.assets++;
    return true;
  });
  for (const auto& [key, c] : refs_) {
    if (!assets_.count(key))
      Diff("references to missing asset " + key.first + "/" + key.second);
  }
}

void Engine::Impl::FsckRun::CheckAsset(const std::string& ws, const std::string& hash,
                                       const AssetRec& a) {
  assets_.emplace(ws, hash);
  std::string what = "asset " + ws + "/" + hash.substr(0, 12);
  auto counted = refs_[{ws, hash}];
  Expect(what + " references", a.refs, counted.first);
  Expect(what + " live references", a.live_refs, counted.second);
  if (counted.first == 0) Diff(what + ": stored but referenced by nothing");
  std::string holder = counted.second == 0 ? Impl::ComputeHolder(txn_, ws, hash) : "";
  if (holder != a.holder)
    Diff(what + ": holder is '" + a.holder + "', should be '" + holder + "'");
  counters_[{ws, counted.second > 0 ? QuotaLedger::kActiveBytes
                                    : QuotaLedger::kTrashBytes}] += a.bytes;
  // Its bytes count in the size of its holder and of every item containing that.
  std::string id = holder;
  for (int depth = 0; !id.empty() && depth < 64; ++depth) {
    item_size_[id] += a.bytes;
    auto it = res_.find(id);
    id = it == res_.end() ? "" : it->second.container;
  }
  CheckBlobFile(what, ws, hash, a.bytes);
}

void Engine::Impl::FsckRun::CheckBlobFile(const std::string& what, const std::string& ws,
                                          const std::string& hash, uint64_t bytes) {
  std::error_code ec;
  auto size = std::filesystem::file_size(impl_.blobs->Path(ws, hash), ec);
  if (ec) {
    Diff(what + ": blob file is missing");
  } else if (size != bytes) {
    Diff(what + ": blob file has " + std::to_string(size) + " bytes, expected " +
         std::to_string(bytes));
  }
}

// Each resource's own bytes, reference count and, for an item, size, recounted.
void Engine::Impl::FsckRun::CheckResourceBytes() {
  for (const auto& [id, r] : res_) {
    uint64_t own = 0;
    for (const auto& h : hashes_of_[id]) {
      AssetRec a;
      if (Impl::LoadAsset(txn_, r.ws, h, &a)) own += a.bytes;
    }
    Expect("resource " + id + " own bytes", r.own_bytes, own);
    Expect("resource " + id + " asset references", static_cast<uint64_t>(r.asset_refs),
           ref_count_[id]);
    if (r.is_item()) Expect("item " + id + " size", r.size, item_size_[id]);
  }
}

void Engine::Impl::FsckRun::CheckStale(
    Table t, const std::function<bool(std::string_view)>& valid) {
  txn_.ScanPrefix(t, "", [&](std::string_view k, auto) {
    if (!valid(k)) Diff(std::string(TableName(t)) + ": stale entry");
    return true;
  });
}

// The trash listings and the expiry index hold trash items only.
void Engine::Impl::FsckRun::CheckTrashIndexes() {
  CheckStale(Table::kTrashByTime, [&](std::string_view k) {
    schema::TrashByTimeKey e;
    return schema::TrashByTimeKey::Decode(k, &e) && IsItem(e.id);
  });
  CheckStale(Table::kTrashByType, [&](std::string_view k) {
    schema::TrashByTypeKey e;
    return schema::TrashByTypeKey::Decode(k, &e) && IsItem(e.id);
  });
  CheckStale(Table::kExpiry, [&](std::string_view k) {
    schema::ExpiryKey e;
    return schema::ExpiryKey::Decode(k, &e) && IsItem(e.id);
  });
}

void Engine::Impl::FsckRun::CheckChildren() {
  CheckStale(Table::kChildren, [&](std::string_view k) {
    schema::ChildKey e;
    return schema::ChildKey::Decode(k, &e) && res_.count(std::string(e.id)) > 0;
  });
}

void Engine::Impl::FsckRun::CheckSlugs() {
  txn_.ScanPrefix(Table::kSlugs, "", [&](std::string_view, std::string_view id) {
    auto it = res_.find(std::string(id));
    if (it == res_.end() || it->second.slug_released)
      Diff("slugs: stale entry for " + std::string(id));
    return true;
  });
}

// Counters: every stored one against the recount, and every recounted one stored.
void Engine::Impl::FsckRun::CheckCounters() {
  std::map<WsKey, uint64_t> stored;
  txn_.ScanPrefix(Table::kCounters, "", [&](std::string_view k, std::string_view v) {
    schema::CounterKey key;
    if (schema::CounterKey::Decode(k, &key))
      stored[{std::string(key.ws), std::string(key.name)}] = schema::DecodeNumber(v);
    return true;
  });
  std::set<WsKey> names;
  for (const auto& [k, v] : stored) names.insert(k);
  for (const auto& [k, v] : counters_) names.insert(k);
  for (const auto& k : names) {
    uint64_t s = stored.count(k) ? stored[k] : 0;
    uint64_t c = counters_.count(k) ? counters_[k] : 0;
    Expect("counter " + k.first + "/" + k.second, s, c);
  }
}

// Blob files: none missing (CheckAssets), none orphaned: each is an asset's, on the
// unlink list, or under a live claim (an upload or a removal in flight).
void Engine::Impl::FsckRun::CheckBlobFiles() {
  std::set<WsKey> pending_unlink;
  txn_.ScanPrefix(Table::kUnlink, "", [&](std::string_view k, auto) {
    schema::UnlinkKey blob;
    if (schema::UnlinkKey::Decode(k, &blob)) pending_unlink.emplace(blob.ws, blob.hash);
    return true;
  });
  const TimeMs now = impl_.clock->Now();
  for (const BlobClaim& c : BlobClaims::On(txn_, "", "")) {
    if (BlobClaims::Fresh(c, now)) pending_unlink.emplace(c.ws, c.hash);
  }
  for (const auto& file : impl_.blobs->List()) {
    report_.blob_files++;
    if (!assets_.count(file) && !pending_unlink.count(file)) {
      Diff("blob file " + file.first + "/" + file.second + " is orphaned");
    }
  }
}

FsckReport Engine::Fsck() {
  FsckReport report;
  auto txn = impl_->store->BeginRead();
  Impl::FsckRun run(*impl_, *txn, &report);
  run.ReadResources();
  run.ReadJobs();
  run.CheckResources();
  run.CheckResourceAssets();
  run.CheckAssetRefs();
  run.CheckAssets();
  run.CheckResourceBytes();
  run.CheckTrashIndexes();
  run.CheckChildren();
  run.CheckSlugs();
  run.CheckCounters();
  run.CheckBlobFiles();
  return report;
}

}  // namespace trashd
