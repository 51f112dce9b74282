// Blob files: their removal once unreferenced, the start-up reclaim, and the upload
// claims, by the protocol of assets/blob_claims.h, so that several processes may share
// one store and one blob directory.
#include <algorithm>
#include <chrono>
#include <thread>

#include "assets/blob_claims.h"
#include "engine/engine_impl.h"

namespace trashd {
namespace {

bool IsBlobName(std::string_view hash) {
  return hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// How long an upload waits for another process's removal of the same file.
constexpr std::chrono::seconds kUploadWait{10};
// The start-up reclaim claims this many files per transaction.
constexpr size_t kReclaimBatch = 1000;

}  // namespace

size_t Engine::Impl::RemoveUnreferenced(const BlobList& list, bool only_listed) {
  if (list.empty()) return 0;
  // A backup is copying the files its snapshot references: the durable list keeps
  // these until the backup ends and runs RecoverUnlinks().
  if (!backup_gate.EnterRemovals()) return 0;
  const std::string token = BlobClaims::NewToken();
  BlobList claimed;
  Status s = store->Write([&](WriteTxn& txn) {
    claimed.clear();
    const TimeMs now = clock->Now();
    for (const auto& [ws, hash] : list) {
      if (BlobClaims::ClaimRemoval(txn, ws, hash, token, now, only_listed) ==
          BlobClaims::Removal::kClaimed) {
        claimed.emplace_back(ws, hash);
      }
    }
    return Status::Ok();
  });
  const auto claimed_at = std::chrono::steady_clock::now();
  BlobList removed;
  for (const auto& [ws, hash] : claimed) {
    if (!s.ok()) break;  // a failed claim proves nothing: the files and entries stay
    // Past the deadline the claims may have expired and another process taken them:
    // the rest are left to it (or to the next start-up).
    if (std::chrono::steady_clock::now() - claimed_at > BlobClaims::kRemovalDeadline)
      break;
    Status r = blobs->Remove(ws, hash);
    if (r.ok()) {
      removed.emplace_back(ws, hash);
    } else if (options.log) {
      options.log(LogLevel::kWarn, r.message());
    }
  }
  backup_gate.LeaveRemovals();
  if (!s.ok()) {
    if (options.log) options.log(LogLevel::kWarn, "unlink list: " + s.message());
    return 0;
  }
  // The claims whose files stay (a failed unlink) are dropped too, their entries kept
  // for the next try; the removed ones' entries go.
  s = store->Write([&](WriteTxn& txn) {
    for (const auto& [ws, hash] : claimed) BlobClaims::Drop(txn, ws, hash, token);
    for (const auto& [ws, hash] : removed)
      txn.Del(Table::kUnlink, schema::UnlinkKey{ws, hash}.Encode());
    return Status::Ok();
  });
  if (!s.ok() && options.log) options.log(LogLevel::kWarn, "unlink list: " + s.message());
  return removed.size();
}

void Engine::Impl::ProcessUnlinks(const BlobList& list) {
  RemoveUnreferenced(list, /*only_listed=*/true);
}

void Engine::Impl::RecoverUnlinks() {
  BlobList pending;
  {
    auto txn = store->BeginRead();
    txn->ScanPrefix(Table::kUnlink, "", [&](std::string_view k, auto) {
      schema::UnlinkKey blob;
      if (schema::UnlinkKey::Decode(k, &blob)) pending.emplace_back(blob.ws, blob.hash);
      return true;
    });
  }
  ProcessUnlinks(pending);
}

void Engine::Impl::ReclaimOrphanedBlobs() {
  // One process per blob directory (LMDB): only the holder of its lock reclaims.
  // Shared: every process reclaims at its start, and the claims of live uploads keep
  // their files.
  if (!SharedStore() && !blobs->owns_directory()) return;
  BlobList orphans;
  {
    auto txn = store->BeginRead();
    for (auto& [ws, hash] : blobs->List()) {
      if (!IsBlobName(hash)) continue;  // not a file trashd wrote: not ours to remove
      AssetRec a;
      if (LoadAsset(*txn, ws, hash, &a) ||
          txn->Has(Table::kUnlink, schema::UnlinkKey{ws, hash}.Encode())) {
        continue;
      }
      orphans.emplace_back(std::move(ws), std::move(hash));
    }
    if (!txn->status().ok()) return;  // a failed read proves nothing: keep them all
  }
  size_t reclaimed = 0;
  for (size_t i = 0; i < orphans.size(); i += kReclaimBatch) {
    BlobList batch(orphans.begin() + static_cast<std::ptrdiff_t>(i),
                   orphans.begin() + static_cast<std::ptrdiff_t>(
                                         std::min(orphans.size(), i + kReclaimBatch)));
    reclaimed += RemoveUnreferenced(batch, /*only_listed=*/false);
  }
  if (reclaimed > 0 && options.log) {
    options.log(LogLevel::kInfo, "removed " + std::to_string(reclaimed) +
                                     " blob file(s) of uploads a crash interrupted");
  }
}

void Engine::Impl::DropDeadClaims() {
  if (!SharedStore() && !blobs->owns_directory()) return;  // the owner's are live
  std::vector<BlobClaim> dead;
  {
    auto txn = store->BeginRead();
    // One process per directory: every claim is a dead one's. Shared: the expired
    // ones (their process died, or stalled past its lease and will start over).
    const TimeMs now = clock->Now();
    for (BlobClaim& c : BlobClaims::On(*txn, "", "")) {
      if (!SharedStore() || !BlobClaims::Fresh(c, now)) dead.push_back(std::move(c));
    }
  }
  if (dead.empty()) return;
  Status s = store->Write([&](WriteTxn& txn) {
    for (const BlobClaim& c : dead) BlobClaims::Drop(txn, c.ws, c.hash, c.token);
    return Status::Ok();
  });
  if (!s.ok() && options.log) options.log(LogLevel::kWarn, "blob claims: " + s.message());
}

Status Engine::Impl::ClaimUpload(std::string_view ws, std::string_view hash,
                                 std::string* token) {
  *token = BlobClaims::NewToken();
  const auto give_up = std::chrono::steady_clock::now() + kUploadWait;
  for (int round = 0;; ++round) {
    bool claimed = false;
    Status s = store->Write([&](WriteTxn& txn) {
      claimed = BlobClaims::ClaimUpload(txn, ws, hash, *token, clock->Now());
      return Status::Ok();
    });
    if (!s.ok() || claimed) return s;
    if (std::chrono::steady_clock::now() > give_up) {
      return Unavailable(
          "Another trashd process is removing a file of the same content; try again.");
    }
    // A removal takes a few milliseconds: wait a little longer each round.
    std::this_thread::sleep_for(std::chrono::milliseconds(1 << std::min(round, 6)));
  }
}

void Engine::Impl::AbandonUpload(std::string_view ws, std::string_view hash,
                                 std::string_view token) {
  Status s = store->Write([&](WriteTxn& txn) {
    BlobClaims::Drop(txn, ws, hash, token);
    txn.Put(Table::kUnlink, schema::UnlinkKey{ws, hash}.Encode(), "");
    return Status::Ok();
  });
  // Unrecorded, the claim expires and the file is a start-up reclaim's.
  if (!s.ok()) {
    if (options.log) options.log(LogLevel::kWarn, "unlink list: " + s.message());
    return;
  }
  ProcessUnlinks({{std::string(ws), std::string(hash)}});
}

void Engine::Impl::CountChange(WriteTxn& txn, std::string_view ws) {
  if (!SharedStore() || ws.empty()) return;
  const std::string key = schema::WorkspaceChangesKey(ws);
  std::string_view v;
  const uint64_t n = txn.Get(Table::kMeta, key, &v) ? schema::DecodeNumber(v) : 0;
  txn.Put(Table::kMeta, key, schema::EncodeNumber(n + 1));
}

uint64_t Engine::Impl::WorkspaceChangesIn(ReadTxn& txn, std::string_view ws) const {
  std::string_view v;
  if (!SharedStore() || !txn.Get(Table::kMeta, schema::WorkspaceChangesKey(ws), &v))
    return 0;
  return schema::DecodeNumber(v);
}

uint64_t Engine::WorkspaceChanges(std::string_view ws) {
  if (!impl_->SharedStore()) return 0;
  auto txn = impl_->store->BeginRead();
  return impl_->WorkspaceChangesIn(*txn, ws);
}

}  // namespace trashd
