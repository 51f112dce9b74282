// BlobClaims: how several processes (on several hosts) that share one store and one
// blob directory write and remove blob files without ever leaving an asset record on a
// missing file, nor a file nobody references. The store's serializable transactions
// are the only thing they coordinate through: a claim is a row (kMeta "blob_claim" ws
// hash token -> kind, time taken) written and read in the same transactions as the
// asset records. In-process stripe locks (BlobStore::StripeFor) only spare a process
// racing itself; correctness never depends on them.
//
// The invariant: while an asset record exists, its file exists. It holds because
//   - an upload that writes the file first commits an *upload claim* (ClaimUpload),
//     refused while a fresh removal claim exists on the blob; it then writes the file
//     and commits its reference in a transaction that deletes its own claim and fails
//     (the upload starts over, writing the file again) when that claim is gone;
//   - an upload that did not write the file (the content was stored already) commits
//     only if the asset record still exists in its transaction, else starts over;
//   - a file is unlinked only under a *removal claim* (ClaimRemoval), committed in a
//     transaction that saw no asset record and no fresh claim of anyone else on the
//     blob; after the unlink, a second transaction deletes the claim (and the durable
//     unlink entry, Table::kUnlink).
// Serializable isolation orders each upload's commit against each removal claim on
// the same keys: either the upload committed first (the removal sees the asset and
// unlinks nothing) or the claim did (the upload sees its own claim gone, or the asset
// missing, and writes the file again once the removal is done).
//
// Claims expire, so that a process that died holding one blocks nobody for ever:
//   - an upload claim after kUploadLease: past it, a removal or the start-up reclaim
//     may take the file, and the upload, if it is still alive, finds its claim gone
//     and starts over (so an upload's safety does not depend on any clock);
//   - a removal claim after kRemovalLease; a remover unlinks only within
//     kRemovalDeadline (half of it, by its own monotonic clock) of its claim's commit,
//     else leaves the removal to whoever finds the claim expired. This is the one
//     timing assumption: no process stalls for a minute between that check and its
//     unlink() call, and hosts' clocks differ by less than a minute.
// On a store only one process opens (LMDB, whose blob directory is flock()ed), every
// claim found at start-up is a dead process's and is dropped.
//
// Every function runs inside the caller's transaction; all are pure functions of
// their arguments and the transaction, safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"
#include "trashd/clock.h"

namespace trashd {

enum class BlobClaimKind : char { kUpload = 'u', kRemoval = 'r' };

struct BlobClaim {
  std::string ws;
  std::string hash;
  std::string token;
  BlobClaimKind kind = BlobClaimKind::kUpload;
  TimeMs taken = 0;
};

class BlobClaims {
 public:
  // Far beyond any request's time: an upload holds its claim from before it writes
  // the file until its commit.
  static constexpr TimeMs kUploadLease = 60 * 60 * 1000;
  static constexpr TimeMs kRemovalLease = 2 * 60 * 1000;
  static constexpr std::chrono::seconds kRemovalDeadline{60};

  // A token no other claim has (random).
  static std::string NewToken();
  static bool Fresh(const BlobClaim& claim, TimeMs now);

  // Every claim on one blob, or (empty ws) on every blob.
  static std::vector<BlobClaim> On(ReadTxn& txn, std::string_view ws,
                                   std::string_view hash);
  static bool Holds(ReadTxn& txn, std::string_view ws, std::string_view hash,
                    std::string_view token);
  static void Drop(WriteTxn& txn, std::string_view ws, std::string_view hash,
                   std::string_view token);

  // Takes an upload claim unless a fresh removal claim exists (false: try again once
  // it is gone). Drops the expired removal claims it finds.
  static bool ClaimUpload(WriteTxn& txn, std::string_view ws, std::string_view hash,
                          std::string_view token, TimeMs now);

  enum class Removal {
    kReferenced,  // the asset record exists: the file stays (its unlink entry is gone)
    kBusy,        // another process's fresh claim: leave the file to it
    kNothing,     // only_listed, and no unlink entry any more: someone else did it
    kClaimed,     // this call may unlink the file now
  };
  // Decides whether the caller may unlink the blob's file and, if so, takes a removal
  // claim. With only_listed, only a blob on the durable unlink list is considered.
  // Drops the expired claims it finds.
  static Removal ClaimRemoval(WriteTxn& txn, std::string_view ws, std::string_view hash,
                              std::string_view token, TimeMs now, bool only_listed);
};

}  // namespace trashd
