// Usage (Q1) and fsck (Q4): the stored counters, and a recount from scratch.
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

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

namespace {

struct Recount {
  std::vector<std::string>* diffs;
  void Diff(std::string what) { diffs->push_back(std::move(what)); }
  template <typename A, typename B>
  void Expect(const std::string& what, const A& stored, const B& counted) {
    if (stored != counted) {
      Diff(what + ": stored " + std::to_string(stored) + ", recounted " +
           std::to_string(counted));
    }
  }
};

}  // namespace

FsckReport Engine::Fsck() {
  FsckReport report;
  Recount rc{&report.differences};
  auto txn = impl_->store->BeginRead();
  Engine::Impl& impl = *impl_;

  // Everything, by id.
  std::unordered_map<std::string, ResourceRec> res;
  txn->ScanPrefix(Table::kResources, "", [&](std::string_view k, std::string_view v) {
    ResourceRec r;
    if (!ResourceRec::Decode(v, &r)) {
      rc.Diff("resource " + std::string(k) + ": record does not decode");
    } else {
      res.emplace(r.id, std::move(r));
    }
    return true;
  });
  report.resources = res.size();

  std::map<std::pair<std::string, std::string>, uint64_t>
      counters;                                          // (ws, name) -> value
  std::unordered_map<std::string, uint64_t> members_of;  // item -> resources
  std::unordered_map<std::string, uint64_t> open_jobs;
  txn->ScanPrefix(Table::kJobs, "", [&](std::string_view, std::string_view v) {
    Job j;
    if (DecodeJob(v, &j) &&
        (j.state == JobState::kQueued || j.state == JobState::kRunning)) {
      open_jobs[j.resource_id]++;
    }
    return true;
  });

  for (const auto& [id, r] : res) {
    const ResourceType* type = impl.TypeOf(r.type);
    if (!type) rc.Diff("resource " + id + ": unknown type " + r.type);
    if (!txn->Has(Table::kChildren,
                  schema::ChildKey{r.ws, r.parent_id, r.type, r.id}.Encode())) {
      rc.Diff("resource " + id + ": missing from the children index");
    }
    if (!r.parent_id.empty()) {
      auto p = res.find(r.parent_id);
      if (p == res.end() || p->second.ws != r.ws) {
        rc.Diff("resource " + id + ": parent " + r.parent_id + " is missing");
      } else if (r.state == ResourceState::kActive &&
                 p->second.state == ResourceState::kTrashed) {
        rc.Diff("resource " + id + ": active under a trashed parent");
      }
    }
    std::string_view slug_owner;
    bool has_slug =
        txn->Get(Table::kSlugs,
                 schema::SlugKey{r.ws, r.scope_id, r.type, r.slug}.Encode(), &slug_owner);
    if (!r.slug_released && (!has_slug || slug_owner != r.id)) {
      rc.Diff("resource " + id + ": slug " + r.slug + " is not indexed to it");
    }
    if (r.state == ResourceState::kActive && r.slug_released) {
      rc.Diff("resource " + id + ": active with a released slug");
    }
    rc.Expect("resource " + id + " open jobs", static_cast<uint64_t>(r.open_jobs),
              open_jobs[id]);
    if (r.state == ResourceState::kTrashed) {
      auto it = res.find(r.trash_item);
      if (it == res.end() || !it->second.is_item()) {
        rc.Diff("resource " + id + ": its trash item " + r.trash_item + " is missing");
      }
      members_of[r.trash_item]++;
      counters[{r.ws, QuotaLedger::TrashByType(r.type)}] += r.own_bytes;
    } else {
      counters[{r.ws, QuotaLedger::ActiveByType(r.type)}] += r.own_bytes;
    }
    if (r.is_item()) {
      counters[{r.ws, QuotaLedger::kTrashItems}]++;
      if (!txn->Has(Table::kTrashByTime,
                    schema::TrashByTimeKey{r.ws, r.deleted_at, r.id}.Encode()) ||
          !txn->Has(Table::kTrashByType,
                    schema::TrashByTypeKey{r.ws, r.type, r.deleted_at, r.id}.Encode())) {
        rc.Diff("item " + id + ": missing from the trash listing indexes");
      }
      bool in_expiry = txn->Has(
          Table::kExpiry, schema::ExpiryKey{r.scheduled_cleanup_at, r.ws, r.id}.Encode());
      if (in_expiry == r.hold) {
        rc.Diff("item " + id +
                (r.hold ? ": held but in the expiry index"
                        : ": missing from the expiry index"));
      }
      if (!r.container.empty()) {
        auto c = res.find(r.container);
        if (c == res.end() || !c->second.is_item()) {
          rc.Diff("item " + id + ": its container " + r.container +
                  " is not a trash item");
        }
      }
    }
  }
  for (const auto& [id, r] : res) {
    if (r.is_item())
      rc.Expect("item " + id + " cascaded", r.cascaded, members_of[id] - 1);
  }

  // References, both directions, and each resource's own bytes.
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>>
      refs;  // -> (all, live)
  std::unordered_map<std::string, std::set<std::string>> hashes_of;
  std::unordered_map<std::string, uint64_t> ref_count;
  txn->ScanPrefix(Table::kResourceAssets, "", [&](std::string_view k, auto) {
    schema::ResourceAssetKey ref;
    if (!schema::ResourceAssetKey::Decode(k, &ref)) {
      rc.Diff("resource_assets: malformed key");
      return true;
    }
    std::string rid(ref.resource_id), kind(ref.kind), hash(ref.hash);
    std::string ws;
    bool live = true;
    if (IsLibraryId(rid)) {
      ws = rid.substr(5);
    } else {
      auto it = res.find(rid);
      if (it == res.end()) {
        rc.Diff("reference of missing resource " + rid + " to " + hash);
        return true;
      }
      ws = it->second.ws;
      live =
          it->second.state == ResourceState::kActive || !impl.Releases(it->second, kind);
      hashes_of[rid].insert(hash);
      ref_count[rid]++;
    }
    if (!txn->Has(Table::kAssetRefs, schema::AssetRefKey{ws, hash, rid, kind}.Encode())) {
      rc.Diff("reference " + rid + " -> " + hash + ": missing from asset_refs");
    }
    auto& c = refs[{ws, hash}];
    c.first++;
    if (live) c.second++;
    return true;
  });
  txn->ScanPrefix(Table::kAssetRefs, "", [&](std::string_view k, auto) {
    schema::AssetRefKey ref;
    if (!schema::AssetRefKey::Decode(k, &ref) ||
        !txn->Has(
            Table::kResourceAssets,
            schema::ResourceAssetKey{ref.resource_id, ref.kind, ref.hash}.Encode())) {
      rc.Diff("asset_refs entry without its resource_assets mirror");
    }
    return true;
  });

  // Assets: counts, holders, usage and files.
  std::unordered_map<std::string, uint64_t> item_size;
  std::set<std::pair<std::string, std::string>> assets;
  txn->ScanPrefix(Table::kAssets, "", [&](std::string_view k, std::string_view v) {
    schema::AssetKey key;
    AssetRec a;
    if (!schema::AssetKey::Decode(k, &key) || !AssetRec::Decode(v, &a)) {
      rc.Diff("asset record does not decode");
      return true;
    }
    std::string ws(key.ws), hash(key.hash);
    assets.emplace(ws, hash);
    std::string what = "asset " + ws + "/" + hash.substr(0, 12);
    auto counted = refs[{ws, hash}];
    rc.Expect(what + " references", a.refs, counted.first);
    rc.Expect(what + " live references", a.live_refs, counted.second);
    if (counted.first == 0) rc.Diff(what + ": stored but referenced by nothing");
    std::string holder = counted.second == 0 ? Impl::ComputeHolder(*txn, ws, hash) : "";
    if (holder != a.holder)
      rc.Diff(what + ": holder is '" + a.holder + "', should be '" + holder + "'");
    counters[{ws, counted.second > 0 ? QuotaLedger::kActiveBytes
                                     : QuotaLedger::kTrashBytes}] += a.bytes;
    std::string id = holder;
    for (int depth = 0; !id.empty() && depth < 64; ++depth) {
      item_size[id] += a.bytes;
      auto it = res.find(id);
      id = it == res.end() ? "" : it->second.container;
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(impl.blobs->Path(ws, hash), ec);
    if (ec) {
      rc.Diff(what + ": blob file is missing");
    } else if (size != a.bytes) {
      rc.Diff(what + ": blob file has " + std::to_string(size) + " bytes, expected " +
              std::to_string(a.bytes));
    }
    report.assets++;
    return true;
  });
  for (const auto& [key, c] : refs) {
    if (!assets.count(key))
      rc.Diff("references to missing asset " + key.first + "/" + key.second);
  }
  for (const auto& [id, r] : res) {
    uint64_t own = 0;
    for (const auto& h : hashes_of[id]) {
      AssetRec a;
      if (Impl::LoadAsset(*txn, r.ws, h, &a)) own += a.bytes;
    }
    rc.Expect("resource " + id + " own bytes", r.own_bytes, own);
    rc.Expect("resource " + id + " asset references", static_cast<uint64_t>(r.asset_refs),
              ref_count[id]);
    if (r.is_item()) rc.Expect("item " + id + " size", r.size, item_size[id]);
  }

  // Index entries that point at nothing.
  auto check_index = [&](Table t, const std::function<bool(std::string_view)>& valid) {
    txn->ScanPrefix(t, "", [&](std::string_view k, auto) {
      if (!valid(k)) rc.Diff(std::string(TableName(t)) + ": stale entry");
      return true;
    });
  };
  auto is_item = [&](std::string_view id) {
    auto it = res.find(std::string(id));
    return it != res.end() && it->second.is_item();
  };
  check_index(Table::kTrashByTime, [&](std::string_view k) {
    schema::TrashByTimeKey e;
    return schema::TrashByTimeKey::Decode(k, &e) && is_item(e.id);
  });
  check_index(Table::kTrashByType, [&](std::string_view k) {
    schema::TrashByTypeKey e;
    return schema::TrashByTypeKey::Decode(k, &e) && is_item(e.id);
  });
  check_index(Table::kExpiry, [&](std::string_view k) {
    schema::ExpiryKey e;
    return schema::ExpiryKey::Decode(k, &e) && is_item(e.id);
  });
  check_index(Table::kChildren, [&](std::string_view k) {
    schema::ChildKey e;
    return schema::ChildKey::Decode(k, &e) && res.count(std::string(e.id)) > 0;
  });
  txn->ScanPrefix(Table::kSlugs, "", [&](std::string_view, std::string_view id) {
    auto it = res.find(std::string(id));
    if (it == res.end() || it->second.slug_released)
      rc.Diff("slugs: stale entry for " + std::string(id));
    return true;
  });

  // Counters: every stored one against the recount.
  std::map<std::pair<std::string, std::string>, uint64_t> stored;
  txn->ScanPrefix(Table::kCounters, "", [&](std::string_view k, std::string_view v) {
    schema::CounterKey key;
    if (schema::CounterKey::Decode(k, &key))
      stored[{std::string(key.ws), std::string(key.name)}] = schema::DecodeNumber(v);
    return true;
  });
  std::set<std::pair<std::string, std::string>> names;
  for (const auto& [k, v] : stored) names.insert(k);
  for (const auto& [k, v] : counters) names.insert(k);
  for (const auto& k : names) {
    uint64_t s = stored.count(k) ? stored[k] : 0;
    uint64_t c = counters.count(k) ? counters[k] : 0;
    rc.Expect("counter " + k.first + "/" + k.second, s, c);
  }

  // Blob files: none missing (above), none orphaned.
  std::set<std::pair<std::string, std::string>> pending_unlink;
  txn->ScanPrefix(Table::kUnlink, "", [&](std::string_view k, auto) {
    schema::UnlinkKey blob;
    if (schema::UnlinkKey::Decode(k, &blob)) pending_unlink.emplace(blob.ws, blob.hash);
    return true;
  });
  for (const auto& file : impl.blobs->List()) {
    report.blob_files++;
    if (!assets.count(file) && !pending_unlink.count(file)) {
      rc.Diff("blob file " + file.first + "/" + file.second + " is orphaned");
    }
  }
  return report;
}

}  // namespace trashd
