// Purge (P1–P4), Empty Trash and the expiry sweep (S1–S2); blob removal is in
// engine_blobs.cc.
#include <algorithm>
#include <chrono>
#include <future>
#include <unordered_map>

#include "engine/engine_impl.h"
#include "engine/host_impl.h"
#include "engine/json.h"

namespace trashd {
namespace {

int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool Engine::Impl::IsHeld(ReadTxn& txn, const ResourceRec& item) {
  Workspace w;
  if (LoadWorkspace(txn, item.ws, &w) && w.hold) return true;
  ResourceRec cur = item;
  for (int depth = 0; depth < 64; ++depth) {
    if (cur.hold) return true;
    if (cur.container.empty() || !LoadResource(txn, cur.container, &cur)) return false;
  }
  return false;
}

bool Engine::Impl::KeptByHold(ReadTxn& txn, const ResourceRec& item) {
  if (IsHeld(txn, item)) return true;
  std::vector<std::string> stack{item.id};
  while (!stack.empty()) {
    std::string cur = std::move(stack.back());
    stack.pop_back();
    bool held = false;
    txn.ScanPrefix(
        Table::kChildren, schema::ChildrenPrefix(item.ws, cur),
        [&](std::string_view k, auto) {
          schema::ChildKey child;
          ResourceRec c;
          if (!schema::ChildKey::Decode(k, &child) || !LoadResource(txn, child.id, &c)) {
            return true;
          }
          if (c.is_item() && c.hold) {
            held = true;
            return false;
          }
          stack.push_back(c.id);
          return true;
        });
    if (held) return true;
  }
  return false;
}

std::string Engine::Impl::ComputeHolder(ReadTxn& txn, std::string_view ws,
                                        std::string_view hash) {
  std::vector<std::string> common;  // innermost first
  bool first = true;
  bool none = false;
  std::unordered_map<std::string, std::string> container_of;
  const std::string refs = schema::AssetRefsPrefix(ws, hash);
  txn.ScanPrefix(Table::kAssetRefs, refs, [&](std::string_view k, auto) {
    schema::AssetRefKey ref;
    ResourceRec r;
    if (!schema::AssetRefKey::Decode(k, &ref)) return true;
    std::string rid(ref.resource_id);
    if (IsLibraryId(rid) || !LoadResource(txn, rid, &r) ||
        r.state == ResourceState::kActive) {
      none = true;
      return false;
    }
    std::vector<std::string> chain;
    std::string it = r.trash_item;
    for (int depth = 0; !it.empty() && depth < 64; ++depth) {
      chain.push_back(it);
      auto found = container_of.find(it);
      if (found == container_of.end()) {
        ResourceRec item;
        std::string next = LoadResource(txn, it, &item) ? item.container : "";
        found = container_of.emplace(it, next).first;
      }
      it = found->second;
    }
    if (first) {
      common = std::move(chain);
      first = false;
    } else {
      std::vector<std::string> kept;
      for (const auto& c : common) {
        if (std::find(chain.begin(), chain.end(), c) != chain.end()) kept.push_back(c);
      }
      common = std::move(kept);
    }
    if (common.empty()) none = true;
    return !none;
  });
  if (none || common.empty()) return "";
  return common.front();
}

void Engine::Impl::AddToItemSizes(WriteTxn& txn, std::string_view item_id,
                                  int64_t delta) {
  std::string id(item_id);
  for (int depth = 0; !id.empty() && depth < 64; ++depth) {
    ResourceRec r;
    if (!LoadResource(txn, id, &r)) return;
    r.size = static_cast<uint64_t>(static_cast<int64_t>(r.size) + delta);
    PutResource(txn, r);
    id = r.container;
  }
}

// ---- purge and empty trash --------------------------------------------------------

namespace {
// P3: never through the API; on the web page only for a member holding purge_trash.
Status CheckMayPurge(Engine& engine, const Actor& actor, std::string_view ws) {
  if (actor.via == Interface::kApi) {
    return PermissionDenied(
        "Permanent deletion is not available through the API; use the Trash page or "
        "trashctl.");
  }
  if (!actor.member_id.empty() && !engine.MemberHas(ws, actor.member_id, "purge_trash")) {
    return PermissionDenied("Your role lacks the purge_trash permission.");
  }
  return Status::Ok();
}
}  // namespace

Result<PurgeOutcome> Engine::Purge(const Actor& actor, std::string_view ws,
                                   std::string_view internal_id) {
  Status refused = CheckMayPurge(*this, actor, ws);
  if (!refused.ok()) return impl_->Refuse(actor, ws, "purge", "", internal_id, refused);
  PurgeOutcome out;
  BlobList unlink;
  Status s = impl_->RunAudited(
      actor, ws, "purge", "", internal_id, [&](WriteTxn& txn) -> Status {
        out = PurgeOutcome{};
        unlink.clear();
        ResourceRec item;
        if (!Impl::LoadOwned(txn, ws, internal_id, &item).ok() || !item.is_item()) {
          return NotFound((item.type.empty() ? std::string("item") : item.type) + " " +
                          std::string(internal_id) + " is not in Trash");
        }
        return impl_->PurgeItemInTxn(txn, actor, item, &out, &unlink);
      });
  if (!s.ok()) return s;
  impl_->ProcessUnlinks(unlink);
  return out;
}

namespace {

// Purges the given items in one transaction; if any fails, each alone, so one bad item
// (a failing hook) does not hold back the others. `skip` decides per item, inside the
// transaction, whether it is no longer due (returns true to skip it).
struct BatchResult {
  PurgeOutcome outcome;  // outcome.skipped_held: the items a hold kept
  std::vector<std::pair<std::string, Status>> failures;  // (id, why)
  Status fenced;  // the guard refused the batch: nothing of it changed
};

// A check made first in each batch's transaction (the sweep's lease); null: none.
using BatchGuard = std::function<Status(ReadTxn&)>;

BatchResult PurgeItems(Engine::Impl& impl, const Actor& actor,
                       const std::vector<std::pair<std::string, std::string>>& items,
                       const std::function<bool(const ResourceRec&)>& skip,
                       const BatchGuard& guard = nullptr) {
  BatchResult result;
  auto run = [&](size_t from, size_t to, BatchResult* into) -> Status {
    BlobList unlink;
    BatchResult local;
    Status s = impl.store->Write([&](WriteTxn& txn) -> Status {
      local = BatchResult{};
      unlink.clear();
      if (guard) {
        local.fenced = guard(txn);
        if (!local.fenced.ok()) return local.fenced;
      }
      // Independent steps (Each): on PostgreSQL the reads of many items take one round
      // trip. A step may run again, so each keeps its outcome apart until the end.
      std::vector<PurgeOutcome> outcomes(to - from);
      std::vector<BlobList> unlinks(to - from);
      TRASHD_RETURN_IF_ERROR(txn.Each(to - from, [&](size_t k) -> Status {
        outcomes[k] = PurgeOutcome{};
        unlinks[k].clear();
        const auto& [ws, id] = items[from + k];
        ResourceRec r;
        if (!Engine::Impl::LoadResource(txn, id, &r) || !r.is_item() || r.ws != ws ||
            skip(r)) {
          return txn.status();
        }
        return impl.PurgeItemInTxn(txn, actor, r, &outcomes[k], &unlinks[k],
                                   /*skip_held=*/true);
      }));
      for (size_t k = 0; k < outcomes.size(); ++k) {
        local.outcome.items += outcomes[k].items;
        local.outcome.resources += outcomes[k].resources;
        local.outcome.bytes_freed += outcomes[k].bytes_freed;
        for (auto& h : outcomes[k].skipped_held) local.outcome.skipped_held.push_back(h);
        unlink.insert(unlink.end(), unlinks[k].begin(), unlinks[k].end());
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      if (!local.fenced.ok()) into->fenced = local.fenced;
      return s;
    }
    impl.ProcessUnlinks(unlink);
    into->outcome.items += local.outcome.items;
    into->outcome.resources += local.outcome.resources;
    into->outcome.bytes_freed += local.outcome.bytes_freed;
    for (auto& h : local.outcome.skipped_held) into->outcome.skipped_held.push_back(h);
    return s;
  };
  if (items.empty()) return result;
  if (run(0, items.size(), &result).ok() || !result.fenced.ok()) return result;
  for (size_t i = 0; i < items.size(); ++i) {
    Status s = run(i, i + 1, &result);
    if (!result.fenced.ok()) return result;
    if (!s.ok()) {
      result.failures.emplace_back(items[i].second, s);
      (void)impl.Refuse(actor, items[i].first, "purge", "", items[i].second, s);
    }
  }
  return result;
}

}  // namespace

Result<PurgeOutcome> Engine::EmptyTrash(const Actor& actor, std::string_view ws) {
  Status refused = CheckMayPurge(*this, actor, ws);
  if (!refused.ok())
    return impl_->Refuse(actor, ws, "empty-trash", "workspace", ws, refused);
  std::vector<std::pair<std::string, std::string>> items;
  {
    auto txn = impl_->store->BeginRead();
    Workspace w;
    if (!Impl::LoadWorkspace(*txn, ws, &w))
      return Impl::Missing(*txn, NotFound("no workspace " + std::string(ws)));
    txn->ScanPrefix(Table::kTrashByTime, schema::TrashByTimePrefix(ws),
                    [&](std::string_view k, auto) {
                      schema::TrashByTimeKey item;
                      if (schema::TrashByTimeKey::Decode(k, &item))
                        items.emplace_back(std::string(ws), std::string(item.id));
                      return true;
                    });
  }
  PurgeOutcome total;
  constexpr size_t kBatch = 256;
  for (size_t from = 0; from < items.size(); from += kBatch) {
    std::vector<std::pair<std::string, std::string>> part(
        items.begin() + from, items.begin() + std::min(items.size(), from + kBatch));
    BatchResult r =
        PurgeItems(*impl_, actor, part, [](const ResourceRec&) { return false; });
    total.items += r.outcome.items;
    total.resources += r.outcome.resources;
    total.bytes_freed += r.outcome.bytes_freed;
    for (auto& h : r.outcome.skipped_held) total.skipped_held.push_back(h);
    if (!r.failures.empty() && from + kBatch >= items.size() && total.items == 0) {
      return r.failures.front().second;
    }
  }
  return total;
}

// ---- sweep ------------------------------------------------------------------------

namespace {

// What a sweep at `now` would purge, changing nothing.
void DryRunSweep(Engine::Impl& impl, TimeMs now, SweepReport* report) {
  auto txn = impl.store->BeginRead();
  auto c = txn->OpenCursor(Table::kExpiry);
  for (c->Seek(""); c->Valid(); c->Next()) {
    schema::ExpiryKey due;
    ResourceRec r;
    if (!schema::ExpiryKey::Decode(c->key(), &due)) continue;
    if (due.cleanup_at > now) break;  // nothing unexpired is read (S2)
    if (!Engine::Impl::LoadResource(*txn, due.id, &r) || !r.is_item()) continue;
    if (Engine::Impl::KeptByHold(*txn, r)) {
      report->skipped_held++;
      continue;
    }
    report->would_purge.push_back(impl.MakeTrashItem(*txn, r));
    report->items++;
    report->bytes += r.size;
  }
}

// Up to `batch` items due at `now` after the expiry key `after`, as (ws, id), and the
// last expiry key read.
struct Due {
  std::vector<std::pair<std::string, std::string>> items;
  std::string last;
};

Due ReadDue(Engine::Impl& impl, const std::string& after, TimeMs now, size_t batch) {
  Due due;
  auto txn = impl.store->BeginRead();
  auto c = txn->OpenCursor(Table::kExpiry);
  c->Seek(after);
  if (!after.empty() && c->Valid() && c->key() == after) c->Next();
  for (; c->Valid() && due.items.size() < batch; c->Next()) {
    schema::ExpiryKey entry;
    if (schema::ExpiryKey::Decode(c->key(), &entry)) {
      // Stop at the first key not yet due: nothing unexpired is read (S2).
      if (entry.cleanup_at > now) break;
      due.items.emplace_back(entry.ws, entry.id);
    }
    due.last.assign(c->key());
  }
  return due;
}

// The same, read on a thread of its own while the caller purges the batch before (its
// keys are at or before `after`, so it changes none of these; each item is checked
// again in its own batch's transaction); where no thread can be had, when asked for.
std::future<Due> ReadDueAhead(Engine::Impl& impl, std::string after, TimeMs now,
                              size_t batch) {
  return std::async(std::launch::async | std::launch::deferred,
                    [&impl, after = std::move(after), now, batch] {
                      return ReadDue(impl, after, now, batch);
                    });
}

}  // namespace

Result<SweepReport> Engine::SweepOnce(TimeMs now, size_t batch, bool dry_run) {
  SweepOptions options;
  options.batch = batch;
  options.dry_run = dry_run;
  return SweepOnce(now, options);
}

Result<SweepReport> Engine::SweepOnce(TimeMs now, const SweepOptions& options) {
  const size_t batch = options.batch == 0 ? 1000 : options.batch;
  const bool dry_run = options.dry_run;
  SweepReport report;
  report.now = now;
  report.dry_run = dry_run;
  int64_t began = SteadyMs();
  Actor sweep = Actor::Sweep();
  if (options.max_clock_jump > 0) {
    report.last_sweep = LastSweep();
    if (report.last_sweep > 0 && now - report.last_sweep > options.max_clock_jump) {
      report.clock_jump_ms = now - report.last_sweep;
      report.held_by_clock_jump = !options.accept_clock_jump;
    }
  }
  if (dry_run || report.held_by_clock_jump) {
    DryRunSweep(*impl_, now, &report);
    if (report.held_by_clock_jump) report.held_items = report.items;
    if (!dry_run) {  // held back: what would have gone waits, and is not listed
      report.items = report.bytes = 0;
      report.would_purge.clear();
    }
    report.duration_ms = SteadyMs() - began;
    return report;
  }

  // Several nodes: every write below first checks that the lease is still ours.
  BatchGuard guard;
  if (options.lease) {
    guard = [claim = *options.lease](ReadTxn& txn) { return lease::Check(txn, claim); };
  }
  TimeMs started = impl_->clock->Now();
  std::string run_key;
  Status s = impl_->store->Write([&](WriteTxn& txn) {
    if (guard) TRASHD_RETURN_IF_ERROR(guard(txn));
    run_key =
        schema::SweepRunKey{started, QuotaLedger::NextSeq(txn, schema::kSweepSeqKey)}
            .Encode();
    txn.Put(Table::kSweepRuns, run_key, EncodeSweepRun(SweepRun{started, 0, 0, 0, 0}));
    return Status::Ok();
  });
  if (!s.ok()) return s;

  for (Due due = ReadDue(*impl_, "", now, batch); !due.items.empty();) {
    std::future<Due> next = ReadDueAhead(*impl_, due.last, now, batch);
    BatchResult r = PurgeItems(
        *impl_, sweep, due.items,
        [now](const ResourceRec& item) {
          return item.scheduled_cleanup_at > now;  // never early
        },
        guard);
    if (!r.fenced.ok()) return r.fenced;
    report.items += r.outcome.items;
    report.resources += r.outcome.resources;
    report.bytes += r.outcome.bytes_freed;
    report.skipped_held += r.outcome.skipped_held.size();
    report.batches++;
    due = next.get();
  }
  report.duration_ms = SteadyMs() - began;
  s = impl_->store->Write([&](WriteTxn& txn) {
    if (guard) TRASHD_RETURN_IF_ERROR(guard(txn));
    SweepRun run{started, impl_->clock->Now(), report.items, report.bytes,
                 report.duration_ms};
    txn.Put(Table::kSweepRuns, run_key, EncodeSweepRun(run));
    txn.Put(Table::kMeta, schema::kLastSweepKey,
            schema::EncodeNumber(static_cast<uint64_t>(started)));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  // Several nodes: a node that died mid-upload left a file its expired claim no longer
  // keeps; the sweep's node takes such files back, as every node does at its start.
  if (impl_->SharedStore()) impl_->ReclaimBlobFiles();
  return report;
}

std::vector<SweepRun> Engine::SweepRuns(size_t limit) {
  std::vector<SweepRun> out;
  auto txn = impl_->store->BeginRead();
  txn->ScanPrefix(Table::kSweepRuns, "", [&](auto, std::string_view v) {
    SweepRun r;
    if (DecodeSweepRun(v, &r)) out.push_back(r);
    return true;
  });
  std::reverse(out.begin(), out.end());  // newest first
  if (out.size() > limit) out.resize(limit);
  return out;
}

TimeMs Engine::LastSweep() {
  Result<TimeMs> last = ReadLastSweep();
  return last.ok() ? *last : impl_->last_sweep_read.load();
}

Result<TimeMs> Engine::ReadLastSweep() {
  auto txn = impl_->store->BeginRead();
  std::string_view v;
  TimeMs last = 0;
  if (txn->Get(Table::kMeta, schema::kLastSweepKey, &v)) {
    last = static_cast<TimeMs>(schema::DecodeNumber(v));
  } else if (!txn->status().ok()) {
    return txn->status();
  }
  impl_->last_sweep_read.store(last);
  return last;
}

}  // namespace trashd
