// The inside of Engine, shared by the engine_*.cc files (one per concern). Not a
// public header.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "assets/blob_store.h"
#include "audit/audit_log.h"
#include "engine/backup.h"
#include "engine/engine.h"
#include "engine/records.h"
#include "engine/trash_search_cache.h"
#include "events/outbox.h"
#include "quota/quota_ledger.h"
#include "store/schema.h"
#include "store/store.h"
#include "sweep/expiry_index.h"

namespace trashd {

using BlobList = std::vector<std::pair<std::string, std::string>>;  // (ws, hash)

// The workspace's asset library: keeps the references a purge does not free.
std::string LibraryId(std::string_view ws);
bool IsLibraryId(std::string_view id);

bool ValidWorkspaceSlug(std::string_view s);
bool ValidSlug(std::string_view s);
std::string SlugFromName(std::string_view name, std::string_view fallback);
std::string PublicIdOf(const ResourceRec& r, const ResourceType* type);
Resource ToResource(const ResourceRec& r, const ResourceType* type);
// "<type> <id> is not in Trash" ("item" for an unknown type).
std::string NotInTrash(std::string_view type, std::string_view id);
// "a <noun>" or "an <noun>".
std::string Article(std::string_view noun);
// An active resource of `ws`, or NotFound (T2: trashed ones do not exist out here).
Status LoadActive(ReadTxn& txn, std::string_view ws, std::string_view id,
                  ResourceRec* out);

// The hooks' window on the current transaction.
class HostImpl;

// Which member each API key belongs to, as its record said when last read (a key's
// member never changes), so that Authorize asks for the key's record and the member's
// together: one round trip on PostgreSQL, not two. A hint only: what the records
// read say decides. Thread-safe.
class KeyMemberHints {
 public:
  std::string Find(std::string_view key_id) const {
    std::lock_guard lock(mu_);
    auto it = members_.find(std::string(key_id));
    return it == members_.end() ? "" : it->second;
  }
  void Forget(std::string_view key_id) {
    std::lock_guard lock(mu_);
    members_.erase(std::string(key_id));
  }
  void Remember(std::string_view key_id, std::string_view member_id) {
    std::lock_guard lock(mu_);
    if (members_.size() >= kMost) members_.clear();  // a bound, not an eviction policy
    members_.insert_or_assign(std::string(key_id), std::string(member_id));
  }

 private:
  static constexpr size_t kMost = 4096;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> members_;
};

// One state-changing call as a value, so that it can be run and waited for
// (Impl::Run) or queued without holding a thread (Impl::Submit): who asked and what it
// targets, for the audit log when it is refused, and its body. The body runs in the
// write transaction, perhaps later and on another thread, and again when the batch
// runs again: it owns everything it captures and fills *out afresh each time.
template <typename T>
struct WriteCall {
  Actor actor;
  std::string ws;
  std::string action;
  std::string type;
  std::string target_id;
  std::function<Status(WriteTxn&, T*)> body;
};
// The value of a call that answers only a Status.
struct NoValue {};

struct Engine::Impl {
  explicit Impl(const Clock* clock_in);

  EngineOptions options;
  const TypeRegistry* types = nullptr;
  const Clock* clock = nullptr;
  std::unique_ptr<BlobStore> blobs;
  // The collaborators every change writes to, in its own transaction.
  AuditLog audit_log;
  Outbox outbox;
  ExpiryIndex expiry;  // its notices are QueueNotice's
  // While a backup copies blob files, ProcessUnlinks leaves them in the unlink list.
  BackupGate backup_gate;
  // The web page's search indexes (engine_trash_search.cc).
  TrashSearchCache search_cache;
  KeyMemberHints key_members;
  // The last completed sweep's start as last read from the store: what LastSweep()
  // answers while the store does not (a database lost), rather than "never".
  std::atomic<TimeMs> last_sweep_read{0};
  // Last, so that it closes first: the calls still queued when the engine closes run,
  // and are answered, while everything their bodies and completions use is there,
  // and while `store` still points at it (a completion may queue an audit entry).
  std::unique_ptr<Store> store;

  // ---- records ----
  static bool LoadResource(ReadTxn& txn, std::string_view id, ResourceRec* out);
  static void PutResource(WriteTxn& txn, const ResourceRec& r);
  static bool LoadWorkspace(ReadTxn& txn, std::string_view ws, Workspace* out);
  static bool LoadAsset(ReadTxn& txn, std::string_view ws, std::string_view hash,
                        AssetRec* out);
  static std::string MemberName(ReadTxn& txn, std::string_view ws,
                                std::string_view member_id);
  // A resource of `ws` (active or trashed), or NotFound naming it (the storage error
  // instead when a read failed).
  static Status LoadOwned(ReadTxn& txn, std::string_view ws, std::string_view id,
                          ResourceRec* out);
  // How a read call answers a miss: `not_found`, unless a read of `txn` failed, which
  // is no missing key and answers its storage error (a client must not see a 404 for
  // a failed read). Every public read that answers NotFound goes through here.
  static Status Missing(const ReadTxn& txn, Status not_found) {
    return txn.status().ok() ? std::move(not_found) : txn.status();
  }

  // A1's decision on a member, for API keys and web sessions alike: the member
  // exists (else `gone`, or the storage error) and its role holds `permission` (empty:
  // none needed; else PermissionDenied naming both). Fills *out.
  static Status MemberMay(ReadTxn& txn, std::string_view ws, std::string_view member_id,
                          std::string_view permission, Status gone, Member* out);

  // ---- audit and events ----
  // Appends to the audit log, naming the actor as its workspace knows it.
  void Audit(WriteTxn& txn, const Actor& actor, std::string_view ws,
             std::string_view action, std::string_view type, std::string_view target_id,
             std::string_view target_name, uint64_t descendants, bool ok,
             std::string_view detail);
  // Queues the `expiring` notice of a trash item (engine_events.cc); true if queued
  // (the outbox may not keep `expiring` events).
  bool QueueNotice(WriteTxn& txn, const ResourceRec& item, TimeMs now);
  // Writes a refusal to the audit log in its own transaction and returns `status`.
  // A caller that may not wait (options.may_wait false) gets `status` at once and
  // the entry joins the next batch.
  Status Refuse(const Actor& actor, std::string_view ws, std::string_view action,
                std::string_view type, std::string_view target_id, Status status,
                const WriteOptions& options = {});
  // Refuse without waiting: queues the entry, then calls then(status) once it is
  // durable (at once for a storage failure, which records nothing).
  void RefuseLater(const Actor& actor, std::string_view ws, std::string_view action,
                   std::string_view type, std::string_view target_id, Status status,
                   std::function<void(Status)> then);
  // Runs `call` and waits: commits on OK; on a refusal audits it and returns it.
  template <typename T>
  Result<T> Run(const WriteCall<T>& call) {
    T out;
    Status s = RunAudited(call.actor, call.ws, call.action, call.type, call.target_id,
                          [&](WriteTxn& txn) {
                            out = T{};
                            return call.body(txn, &out);
                          });
    if (!s.ok()) return s;
    return out;
  }
  // Queues `call` in the store's next batch and returns at once; done gets its
  // result once durable, or its refusal once that is in the audit log.
  template <typename T>
  void Submit(WriteCall<T> call, Completion<T> done) {
    auto state = std::make_shared<std::pair<WriteCall<T>, T>>(std::move(call), T{});
    store->WriteAsync(
        [state](WriteTxn& txn) {
          state->second = T{};  // the batch may run again: start afresh
          return state->first.body(txn, &state->second);
        },
        [this, state, done = std::move(done)](Status s) {
          if (s.ok()) return done(std::move(state->second));
          const WriteCall<T>& c = state->first;
          RefuseLater(c.actor, c.ws, c.action, c.type, c.target_id, std::move(s),
                      [done](Status refusal) { done(std::move(refusal)); });
        });
  }
  // ---- writes an API key asks for (engine_access.cc) ----
  // What a key's check found: who the key stands for (as far as it got) and its
  // refusal, if any.
  struct KeyVerdict {
    Principal principal;
    Status refusal;
  };
  // Engine::AuthorizeAndFind's checks in `txn`, and the resource `resource_id` of `ws`
  // into *found for a key they allow. Answers a failed read's error, not a verdict.
  Result<KeyVerdict> CheckKey(ReadTxn& txn, std::string_view secret, std::string_view ws,
                              std::string_view scope, std::string_view permission,
                              std::string_view resource_id,
                              std::optional<Resource>* found);
  Result<Principal> AuthorizeAndFind(std::string_view secret, std::string_view ws,
                                     std::string_view scope, std::string_view permission,
                                     std::string_view resource_id,
                                     std::optional<Resource>* found,
                                     const WriteOptions& options);
  // Whether a write for this key has its key checked in its own transaction
  // (Engine::TrashWithKey): on a shared store, for a key whose secret matched on this
  // node (key_members).
  bool KeyCheckedInBatch(std::string_view secret) const;
  // The key's check refused it in a batch: its next writes check it first, apart.
  void ForgetKey(std::string_view secret);
  // Submit() of the call make(actor) for an API key, checked as Engine::TrashWithKey
  // says: in the call's own transaction, or by AuthorizeAndFind first.
  template <typename T>
  void SubmitWithKey(KeyedWrite key, std::function<WriteCall<T>(const Actor&)> make,
                     Completion<KeyedOutcome<T>> done);

  // Runs a state-changing operation: commits on OK; on a refusal (any non-OK status
  // but Internal/Unavailable storage failures too) audits it and returns it.
  Status RunAudited(const Actor& actor, std::string_view ws, std::string_view action,
                    std::string_view type, std::string_view target_id,
                    const std::function<Status(WriteTxn&)>& fn);

  // ---- types and hooks ----
  const ResourceType* TypeOf(std::string_view name) const { return types->Find(name); }
  static ResourceView View(const ResourceRec& r);
  // The same into an existing view, reusing its strings' capacity (hot loops).
  static void FillView(const ResourceRec& r, ResourceView* v);

  // ---- trash internals ----
  // Removes a trash item and its whole subtree (P1), inside `txn`. Appends the blob
  // files to remove once committed. An item a hold keeps (P4) is refused with
  // Conflict, or, with skip_held, noted in out->skipped_held and left as it is.
  Status PurgeItemInTxn(WriteTxn& txn, const Actor& actor, const ResourceRec& item,
                        PurgeOutcome* out, BlobList* unlink, bool skip_held = false);
  // The whole subtree of `item`, whatever state each part is in; `item` first.
  static std::vector<ResourceRec> SubtreeOf(ReadTxn& txn, const ResourceRec& item);
  // Whether a hold keeps the item: its own, a containing item's, or the workspace's.
  static bool IsHeld(ReadTxn& txn, const ResourceRec& item);
  // IsHeld, or an item trashed before it and now inside it is held (P4): the same
  // decision PurgeItemInTxn makes, for the sweep's dry run, which changes nothing.
  static bool KeptByHold(ReadTxn& txn, const ResourceRec& item);
  // Innermost trash item holding every reference of an asset ("" if none).
  static std::string ComputeHolder(ReadTxn& txn, std::string_view ws,
                                   std::string_view hash);
  // Adds delta to the size of an item and of every item containing it.
  static void AddToItemSizes(WriteTxn& txn, std::string_view item_id, int64_t delta);
  TrashItem MakeTrashItem(ReadTxn& txn, const ResourceRec& item) const;
  // ---- blob files (engine_blobs.cc; the protocol: assets/blob_claims.h) ----
  // Whether other processes may share the store and the blob directory (PostgreSQL).
  bool SharedStore() const { return options.store.backend == StoreBackend::kPostgres; }
  // The workspace's change counter as `txn` sees it (Engine::WorkspaceChanges); 0 on
  // a store of one process.
  uint64_t WorkspaceChangesIn(ReadTxn& txn, std::string_view ws) const;
  // Removes blob files whose assets are gone (called after the commit), each under a
  // removal claim; leaves the ones a backup may be copying to the unlink list.
  void ProcessUnlinks(const BlobList& blobs);
  // At start-up, first: drops the claims of dead processes (every claim, on a store
  // one process owns; the expired ones on a shared store).
  void DropDeadClaims();
  // Finishes removals a crash interrupted (the durable unlink list).
  void RecoverUnlinks();
  // At start-up, once RecoverUnlinks has run: removes the blob files no asset record
  // references and no live upload claims (an upload a crash cut off between its file
  // and its commit).
  void ReclaimOrphanedBlobs();
  // The three above, in order: what an engine does at open, and on a shared store what
  // the sweep's node does after each sweep, so that a file a dead node's upload left
  // does not wait for some node's restart.
  void ReclaimBlobFiles() {
    DropDeadClaims();
    RecoverUnlinks();
    ReclaimOrphanedBlobs();
  }
  // Takes an upload claim on a blob before its file is written, waiting while another
  // process removes the same file; Unavailable if that takes too long.
  Status ClaimUpload(std::string_view ws, std::string_view hash, std::string* token);
  // An upload that wrote its file under `token` and will not commit: drops the claim
  // and removes the file if nothing references it.
  void AbandonUpload(std::string_view ws, std::string_view hash, std::string_view token);
  // The blobs of `list` that nothing references (with only_listed, only those still on
  // the unlink list) are claimed, unlinked, and their claims and entries deleted.
  // Returns how many files it removed.
  size_t RemoveUnreferenced(const BlobList& list, bool only_listed);
  // The workspace's change counter (schema::WorkspaceChangesKey), bumped by every
  // change that commits, on a store other processes share.
  void CountChange(WriteTxn& txn, std::string_view ws);
  bool Releases(const ResourceRec& r, std::string_view kind) const;

  // ---- fsck (engine_fsck.cc) ----
  // One run of Engine::Fsck: what it read and recounted, one check per table.
  class FsckRun;
};

template <typename T>
void Engine::Impl::SubmitWithKey(KeyedWrite key,
                                 std::function<WriteCall<T>(const Actor&)> make,
                                 Completion<KeyedOutcome<T>> done) {
  if (!KeyCheckedInBatch(key.secret)) {
    // A read of its own first: on the caller's thread, and a refusal's audit entry
    // joins the next batch without being waited for (the caller may not wait).
    std::optional<Resource> found;
    WriteOptions quick;
    quick.may_wait = false;
    auto p = AuthorizeAndFind(key.secret, key.ws, key.scope, key.permission,
                              key.resource_id, &found, quick);
    if (!p.ok()) return done(p.status());
    if (key.check_target) {
      if (Status s = key.check_target(found); !s.ok()) return done(std::move(s));
    }
    KeyedOutcome<T> known{std::move(*p), found ? std::move(*found) : Resource{}, T{}};
    WriteCall<T> call = make(Actor::Member(known.principal.member_id, Interface::kApi));
    return Submit(std::move(call),
                  Completion<T>([known = std::move(known),
                                 done = std::move(done)](Result<T> r) mutable {
                    if (!r.ok()) return done(r.status());
                    known.outcome = std::move(r).value();
                    done(std::move(known));
                  }));
  }
  // In the call's own transaction. How far its last run got says how a failure is
  // audited: not at all before the key's check reached a verdict (its reads failed, or
  // the batch failed before the call ran: no refusal of anyone's), then as the key's,
  // the target's (not audited) or the write's.
  enum class Stage { kUnchecked, kKey, kTarget, kWrite };
  struct State {
    KeyedWrite key;
    std::function<WriteCall<T>(const Actor&)> make;
    KeyedOutcome<T> out;
    Stage stage = Stage::kUnchecked;
    std::optional<WriteCall<T>> call;
  };
  auto state =
      std::make_shared<State>(State{std::move(key), std::move(make), {}, {}, {}});
  store->WriteAsync(
      [this, state](WriteTxn& txn) -> Status {
        State& st = *state;  // the batch may run again: start afresh
        st.out = KeyedOutcome<T>{};
        st.stage = Stage::kUnchecked;
        std::optional<Resource> found;
        TRASHD_ASSIGN_OR_RETURN(KeyVerdict v,
                                CheckKey(txn, st.key.secret, st.key.ws, st.key.scope,
                                         st.key.permission, st.key.resource_id, &found));
        st.stage = Stage::kKey;
        st.out.principal = std::move(v.principal);
        TRASHD_RETURN_IF_ERROR(v.refusal);
        st.stage = Stage::kTarget;
        if (st.key.check_target) TRASHD_RETURN_IF_ERROR(st.key.check_target(found));
        if (found) st.out.target = std::move(*found);
        // The call made before the stage moves on: a make() that throws is answered as
        // Internal without an audit entry, never audited as a call that was not made.
        st.call = st.make(Actor::Member(st.out.principal.member_id, Interface::kApi));
        st.stage = Stage::kWrite;
        return st.call->body(txn, &st.out.outcome);
      },
      [this, state, done = std::move(done)](Status s) {
        State& st = *state;
        if (s.ok()) return done(std::move(st.out));
        auto then = [done](Status refusal) { done(std::move(refusal)); };
        switch (st.stage) {
          case Stage::kUnchecked:
            return done(std::move(s));
          case Stage::kKey: {
            const Principal& p = st.out.principal;
            ForgetKey(st.key.secret);
            return RefuseLater(Actor::Member(p.member_id, Interface::kApi), st.key.ws,
                               "authorize", "key", p.key_id, std::move(s), then);
          }
          case Stage::kTarget:
            return done(std::move(s));
          case Stage::kWrite: {
            const WriteCall<T>& c = *st.call;
            return RefuseLater(c.actor, c.ws, c.action, c.type, c.target_id, std::move(s),
                               then);
          }
        }
      });
}

}  // namespace trashd
