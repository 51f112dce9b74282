// Engine: the retention engine. Every rule of SPEC §2 (T1–T7, R1–R6, P1–P4, S1–S2,
// Q1–Q4, A1, A3) is decided here, once, for every interface: the HTTP API, the admin
// socket and the web page each translate a request into one Engine call.
//
// Each state-changing call is one write transaction: records, indexes, usage counters,
// the audit entry and outbox events commit together or not at all. A refused call
// changes nothing but writes a refusal entry to the audit log. Blob files are written
// before the transaction that references them and removed only after the transaction
// that drops the last reference has committed (through the durable unlink list), each
// under a claim in the store, so that several engines (processes, hosts) may share one
// PostgreSQL store and one blob directory (assets/blob_claims.h).
//
// Ids: every call takes the workspace from the caller's path or key and answers
// NotFound for an id that belongs to another workspace.
//
// Thread-safety: an Engine is safe for concurrent use from many threads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/backup.h"
#include "engine/domain.h"
#include "lease/lease.h"
#include "plugin/registry.h"
#include "store/store.h"
#include "trashd/clock.h"
#include "trashd/status.h"

namespace trashd {

struct EngineOptions {
  std::string data_dir;  // holds the store and blobs/
  StoreOptions store;
  int default_retention_days = kDefaultRetentionDays;
  // Where plugins' HostApi::Log and the engine's own warnings go (default: dropped).
  std::function<void(LogLevel, std::string_view)> log;
  // The event types written to the outbox (see SetQueuedEventTypes); default: all.
  std::optional<std::set<std::string>> queued_event_types;
};

// How a call may write, passed by value (leveldb's WriteOptions), never a mode of
// the calling thread.
struct WriteOptions {
  // false: the caller must never wait for a commit (an HTTP event-loop thread). A
  // call that writes only to record something, a refusal's audit entry, then queues
  // that write for the store's next batch and answers at once.
  bool may_wait = true;
};

// A write an API key asks for (Engine::TrashWithKey, RestoreWithKey): the key and
// what Authorize checks it for, and the target, looked up as AuthorizeAndFind does.
struct KeyedWrite {
  std::string secret;
  std::string ws;
  std::string scope;
  std::string permission;
  std::string resource_id;  // "" for none (check_target then gets nullopt)
  // The caller's own answer for the target found (nullopt: `ws` holds none of that
  // id), after the key's check and before the write: NotFound for another type, say.
  // Its refusal is answered as it is and not audited, like a route's. It may run on
  // the store's writer thread, more than once: it must own what it uses. Unset: none.
  std::function<Status(const std::optional<Resource>&)> check_target;
};
// What such a write answers: who the key stands for, the target as it was found, and
// the write's own outcome.
template <typename T>
struct KeyedOutcome {
  Principal principal;
  Resource target;
  T outcome;
};

// How a sweep runs (Engine::SweepOnce).
struct SweepOptions {
  size_t batch = 1000;   // items per write transaction
  bool dry_run = false;  // list what would go; change nothing
  // The clock-jump guard: when `now` is more than this after the start of the last
  // completed sweep, the clock may have jumped forward (or the daemon was down that
  // long), and purging by it could purge items early: the sweep then purges nothing
  // and says so in its report (SweepReport::held_by_clock_jump), until an operator
  // accepts the clock. 0: no guard. A clock that moved backward purges nothing early
  // anyway: only what is due by `now` is ever purged.
  TimeMs max_clock_jump = 0;
  // The operator has checked the clock: purge what is due even after a jump.
  bool accept_clock_jump = false;
  // Several nodes on one store: the sweep's lease. Every write of the sweep (its run
  // record, each batch, the record of its end) first checks, in its own transaction,
  // that this claim still holds the lease (lease::Check); once it does not, that write
  // changes nothing and the sweep stops with the Conflict, so a node that lost the
  // lease purges nothing more. None: one node alone, nothing to check.
  std::optional<LeaseClaim> lease;
};

// The completion of a call's asynchronous form (see "Asynchronous forms" below).
template <typename T>
using Completion = std::function<void(Result<T>)>;
using StatusCompletion = std::function<void(Status)>;

// The first path segments of the API listener's own routes (/api, /healthz, /trash,
// /ui): a workspace of one of these names would be shadowed by them, so none may be
// created (tests/daemon/openapi_test.cc checks the route table against this list).
const std::vector<std::string>& ReservedWorkspaceSlugs();

class Engine {
 public:
  // Opens the store under options.data_dir, finishes any blob removal a crash
  // interrupted and clears half-written blob files. `types` and `clock` must outlive
  // the Engine; `types` must be frozen.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options,
                                              const TypeRegistry* types,
                                              const Clock* clock);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const TypeRegistry& types() const;
  const Clock& clock() const;
  // The store itself, for core's own tests, benchmarks and tools. Transports use the
  // calls below, never the store: they see neither its transactions nor its batches.
  Store& store();

  // ---- The store, as transports see it ------------------------------------------
  // Its size and group-commit figures (/metrics, trashctl status).
  StoreStats StorageStats();
  // Writes a backup while serving (backup.h): the store's snapshot at `path` and
  // every blob file it references in BackupBlobsDir(path), replacing an older backup
  // there. Blob removals wait while it copies. Runs for as long as the copy takes.
  Result<BackupReport> Backup(const std::string& path);
  // Grows each time a batch of writes commits (Store::Generation): a cache entry made
  // when this had a value is current while it keeps it.
  uint64_t Generation() const;
  // On a store several processes share (PostgreSQL): a number that grows with every
  // change to `ws` that any of them commits (each audited change bumps it in its own
  // transaction), read now; with Generation(), a cache entry about `ws` made when both
  // had their values is current while both keep them. 0 on a store of one process.
  uint64_t WorkspaceChanges(std::string_view ws);

  // ---- Workspaces (admin) -------------------------------------------------------
  // Slugs: 1–64 characters of [a-z0-9-], starting with a letter or digit, and not one
  // of the names the HTTP API's own paths begin with (ReservedWorkspaceSlugs).
  Result<Workspace> CreateWorkspace(const Actor& actor, const Workspace& spec);
  Result<Workspace> GetWorkspace(std::string_view ws);
  std::vector<Workspace> ListWorkspaces();
  // Applies to items deleted from now on; items already in the Trash keep their date.
  Status SetRetention(const Actor& actor, std::string_view ws, int days);
  Status SetQuota(const Actor& actor, std::string_view ws, uint64_t bytes);
  Status SetWorkspaceHold(const Actor& actor, std::string_view ws, bool hold);

  // ---- Members, roles, keys (A1) ------------------------------------------------
  Status AddMember(const Actor& actor, std::string_view ws, const Member& member);
  Status SetMemberRole(const Actor& actor, std::string_view ws,
                       std::string_view member_id, std::string_view role);
  // Ends the member's sessions, removes their password and revokes their API keys;
  // the workspace's last owner cannot be removed (Conflict). Answers how many keys
  // it revoked.
  Result<size_t> RemoveMember(const Actor& actor, std::string_view ws,
                              std::string_view member_id);
  Result<Member> GetMember(std::string_view ws, std::string_view member_id);
  std::vector<Member> ListMembers(std::string_view ws);
  // Permissions must be view_trash, purge_trash or trash_/restore_ of a known type.
  Status CreateRole(const Actor& actor, std::string_view ws, const Role& role);
  std::vector<Role> ListRoles(std::string_view ws);  // "owner" first
  // Scopes must be <type>:read or <type>:update of a known type.
  Result<NewApiKey> CreateKey(const Actor& actor, std::string_view ws,
                              std::string_view member_id,
                              const std::vector<std::string>& scopes);
  Status RevokeKey(const Actor& actor, std::string_view ws, std::string_view key_id);
  std::vector<ApiKeyInfo> ListKeys(std::string_view ws);
  // Which workspace a key belongs to (POST /): Unauthenticated for a bad key.
  Result<Principal> Identify(std::string_view secret);
  // A1: the key exists and is not revoked (else Unauthenticated), belongs to `ws`
  // (else Unauthenticated), holds `scope` (else Unauthenticated: the reference API's
  // behaviour) and its member's role holds `permission` (else PermissionDenied).
  // Empty scope or permission is not checked. Refusals are audited; a caller that
  // must not wait passes options.may_wait = false, and the refusal's audit entry then
  // joins the next batch instead of being waited for.
  Result<Principal> Authorize(std::string_view secret, std::string_view ws,
                              std::string_view scope, std::string_view permission,
                              const WriteOptions& options = {});
  // Authorize, and from the same snapshot the resource `resource_id` of `ws`, active or
  // trashed (*found; nullopt when `ws` holds none of that id), read along with the
  // key's records: on PostgreSQL one round trip where Authorize and then a lookup take
  // two. Nothing is looked up for a refused key; a failed read answers its error.
  Result<Principal> AuthorizeAndFind(std::string_view secret, std::string_view ws,
                                     std::string_view scope, std::string_view permission,
                                     std::string_view resource_id,
                                     std::optional<Resource>* found,
                                     const WriteOptions& options = {});
  // Whether a member's role holds a permission (the web page's check).
  bool MemberHas(std::string_view ws, std::string_view member_id,
                 std::string_view permission);

  // ---- Web page log-in (SPEC §8) -----------------------------------------------
  // Sets a member's password (Argon2id, CheckPasswordRules) and ends every session
  // the member had. Slow (the hash): not for an event loop.
  Status SetPassword(const Actor& actor, std::string_view ws, std::string_view member_id,
                     std::string_view password);
  // Checks the password and opens a session lasting `lifetime_ms`, kept in the store
  // (it survives a restart). A wrong member or password is Unauthenticated, audited as
  // a refused log-in; it takes as long as a right one. Slow: not for an event loop.
  Result<NewWebSession> LogIn(std::string_view ws, std::string_view member_id,
                              std::string_view password, TimeMs lifetime_ms);
  // The session a cookie's token names: Unauthenticated when there is none, it
  // expired, its member is gone or the member's password changed since.
  Result<WebSession> CheckSession(std::string_view token);
  // A1 for the web page: the session is valid (else Unauthenticated) and of `ws`
  // (else Unauthenticated); when `csrf` is given (every change), it is the session's
  // token (else PermissionDenied); the member's role holds `permission` (else
  // PermissionDenied), decided by the same function as Authorize. Refusals audited.
  Result<Principal> AuthorizeSession(std::string_view token, std::string_view ws,
                                     std::string_view permission, const std::string* csrf,
                                     const WriteOptions& options = {});
  // Ends the session (log-out); NotFound when there is none.
  Status LogOut(std::string_view token);
  // The permissions the member's role holds (the page disables what is missing).
  std::vector<std::string> MemberPermissions(std::string_view ws,
                                             std::string_view member_id);

  // ---- Resources ----------------------------------------------------------------
  // Slugs: 1–100 characters of [a-z0-9-_.], starting with a letter or digit; unique
  // among the active resources of the type in its scope (TypeInfo::slug_scope_type).
  Result<Resource> CreateResource(const Actor& actor, std::string_view ws,
                                  const NewResource& spec);
  // Active resources only (T2): a trashed one is NotFound.
  Result<Resource> GetResource(std::string_view ws, std::string_view id);
  // By slug among the active children of `scope_id` ("" = workspace).
  Result<Resource> FindResource(std::string_view ws, std::string_view type,
                                std::string_view scope_id, std::string_view slug);
  // Active children of `parent_id` ("" = workspace), of `type` (empty: every type).
  std::vector<Resource> ListResources(std::string_view ws, std::string_view parent_id,
                                      std::string_view type);
  // T6: by the current owner, or a member of the owner role, or the admin.
  Status TransferOwnership(const Actor& actor, std::string_view ws, std::string_view id,
                           std::string_view new_owner);
  Status SetServing(const Actor& actor, std::string_view ws, std::string_view id,
                    bool serving);

  // Stores `content` as an asset of kind `kind` referenced by an active resource. The
  // content is stored once per workspace. Refused with QuotaExceeded (Q2) when it
  // would take usage over the quota; then nothing is stored.
  Result<StoredAsset> PutAsset(const Actor& actor, std::string_view ws,
                               std::string_view resource_id, std::string_view kind,
                               std::string_view content);
  // References an asset the workspace already stores (sharing an image, say).
  Status LinkAsset(const Actor& actor, std::string_view ws, std::string_view resource_id,
                   std::string_view kind, std::string_view hash);
  // The asset hashes a resource (active or trashed) references, by kind.
  std::vector<std::pair<std::string, std::string>> ResourceAssets(std::string_view ws,
                                                                  std::string_view id);
  Result<std::string> ReadAsset(std::string_view ws, std::string_view hash);
  // Where an asset's file lives (tests and fsck look at it).
  std::string BlobPath(std::string_view ws, std::string_view hash) const;

  Result<Job> CreateJob(const Actor& actor, std::string_view ws,
                        std::string_view resource_id);
  Result<Job> GetJob(std::string_view ws, std::string_view job_id);
  // queued -> running -> finished; a cancelled or finished job does not change again.
  Status SetJobState(const Actor& actor, std::string_view ws, std::string_view job_id,
                     JobState state);

  // ---- Trash (T1–T7) ------------------------------------------------------------
  Result<TrashOutcome> Trash(const Actor& actor, std::string_view ws, std::string_view id,
                             const TrashOptions& options = {});
  // Newest first; `query.cursor` continues a previous page.
  Result<TrashPage> ListTrash(std::string_view ws, const TrashQuery& query);
  Result<TrashItem> GetTrashItem(std::string_view ws, std::string_view internal_id);
  // Maps a client's (type, id, parentId) to the internal id of a trash item.
  Result<std::string> ResolveTrashId(std::string_view ws, std::string_view type,
                                     std::string_view public_id,
                                     std::string_view parent_id);
  // The internal id ResolveTrashId maps them to, not looked up: InvalidArgument for
  // an unknown type, or a numbered type without its parent.
  Result<std::string> TrashIdOf(std::string_view type, std::string_view public_id,
                                std::string_view parent_id) const;
  // ResolveTrashId's check of what it found under that id (nullopt: nothing): OK for
  // an item of the Trash of `type`, else NotFound ("<type> <id> is not in Trash").
  static Status CheckTrashItem(const std::optional<Resource>& found,
                               std::string_view type, std::string_view public_id);
  // The web page's search: name filter, sort and offset page over one workspace's
  // Trash, reading each item's record once (not its parents' and members') and
  // building entries only for the page it answers.
  Result<TrashSearchPage> SearchTrash(std::string_view ws, const TrashSearch& search);
  // What purging the item now would remove: descendants, bytes, files and images.
  Result<PurgePreview> PreviewPurge(std::string_view ws, std::string_view internal_id);
  // P4: a held item is never purged until released.
  Status SetItemHold(const Actor& actor, std::string_view ws,
                     std::string_view internal_id, bool hold);

  // ---- Restore (R1–R6) ----------------------------------------------------------
  Result<RestoreOutcome> Restore(const Actor& actor, std::string_view ws,
                                 std::string_view internal_id);
  // Empty `internal_ids`: every item of the workspace. Parents go before children;
  // each item answers on its own, and one failing does not stop the others.
  std::vector<RestoreResult> RestoreMany(const Actor& actor, std::string_view ws,
                                         const std::vector<std::string>& internal_ids);

  // ---- Purge (P1–P4) ------------------------------------------------------------
  // Only from the admin socket or the web page (P3): an API actor is refused.
  Result<PurgeOutcome> Purge(const Actor& actor, std::string_view ws,
                             std::string_view internal_id);
  // Purges every item of the workspace that no hold keeps.
  Result<PurgeOutcome> EmptyTrash(const Actor& actor, std::string_view ws);

  // ---- Sweep (S1–S2) ------------------------------------------------------------
  // Purges every item whose scheduledCleanupAt <= now, `batch` items per write
  // transaction, reading only the expiry index up to `now`. A dry run lists what would
  // go and changes nothing. Records each real run.
  Result<SweepReport> SweepOnce(TimeMs now, size_t batch, bool dry_run);
  // The same with every option, the clock-jump guard among them.
  Result<SweepReport> SweepOnce(TimeMs now, const SweepOptions& options);
  std::vector<SweepRun> SweepRuns(size_t limit);
  // When the last completed sweep started (0: never). While the store does not answer,
  // what it last answered: a lost database does not turn "swept at 03:00" into "never"
  // (the sweep metric, trashctl status).
  TimeMs LastSweep();
  // The same, with the store's failure (a database lost) when it did not answer:
  // /healthz's proof that the store serves.
  Result<TimeMs> ReadLastSweep();

  // ---- Leases (several nodes on one store: lease/lease.h) ----------------------
  // Takes or renews lease `name` for `node` at `now` for `ttl`, in one write
  // transaction; the lease as it is afterwards (held by `node` or by another).
  Result<LeaseRecord> ClaimLease(std::string_view name, std::string_view node, TimeMs now,
                                 TimeMs ttl);
  // Gives the lease up, if `claim` still holds it, so another node may take it now.
  Status ReleaseLease(const LeaseClaim& claim);

  // ---- Quota (Q1–Q4) ------------------------------------------------------------
  Result<Usage> GetUsage(std::string_view ws);  // O(1) in the size of the workspace
  // Recounts everything from scratch and lists every difference from the stored
  // counters, sizes, references and blob files.
  FsckReport Fsck();

  // ---- Audit (A3) and events (§7) -----------------------------------------------
  std::vector<AuditEntry> Audit(std::string_view ws, TimeMs since, size_t limit);
  // Records, in the audit log, a refusal decided outside the engine (an admin route
  // whose confirmation did not match, say) and returns `status`, the refusal.
  Status RecordRefusal(const Actor& actor, std::string_view ws, std::string_view action,
                       std::string_view type, std::string_view target_id, Status status);
  std::vector<Event> PendingEvents(uint64_t after_seq, size_t limit);
  Status AckEvents(uint64_t up_to_seq);
  // The event types written to the outbox from now on: std::nullopt every type, an
  // empty set none. An event of another type is not written at all (its payload is
  // not even built): nobody would ever read it. The daemon keeps this to what its
  // webhooks take, so an install without webhooks writes no events. The audit entry
  // of a call is written whatever this says.
  void SetQueuedEventTypes(std::optional<std::set<std::string>> types);
  // Queues, in the outbox, one `expiring` event per trash item whose
  // scheduledCleanupAt is at most `notice_days` days after `now` and that has not had
  // one for this stay in the Trash; returns how many were queued (none while
  // `expiring` is not a queued type, and those items still count as notified). Reads
  // only the part of the expiry index that entered the window since the last call, in
  // bounded write batches, so it is cheap to call often (and safe to call
  // concurrently). notice_days is 0-365; 0 queues none, and items that come due
  // meanwhile never get one.
  Result<uint64_t> QueueExpiringNotices(TimeMs now, int notice_days);

  // ---- Asynchronous forms --------------------------------------------------------
  // The calls a transport makes from a thread that must not wait (an HTTP event
  // loop) come in a second form: it queues the call in the store's next batch and
  // returns at once, holding no thread while the batch commits. `done` runs exactly
  // once: with the result once it is durable, or with the refusal once that is in the
  // audit log; on the thread that committed the batch, so it must be quick and must
  // not wait (hand the result to another thread). Same rules as the waiting form.
  void CreateResource(const Actor& actor, std::string_view ws, const NewResource& spec,
                      Completion<Resource> done);
  void Trash(const Actor& actor, std::string_view ws, std::string_view id,
             const TrashOptions& options, Completion<TrashOutcome> done);
  void Restore(const Actor& actor, std::string_view ws, std::string_view internal_id,
               Completion<RestoreOutcome> done);
  // Trash() and Restore() of key.resource_id for an API key, as its member: the
  // refusals are AuthorizeAndFind's, then check_target's, then the write's, in that
  // order, each audited as it is alone. On PostgreSQL, for a key that has passed on
  // this node before, the key's records and the target are read in the write's own
  // transaction, where the writer's cache usually holds them, instead of by a read of
  // their own first: a round trip and the server's work of a read less per write.
  // Otherwise (LMDB, whose reads cost no round trip; a key whose secret has not
  // matched on this node yet, so that made-up keys never take the writer's time; a key
  // a write in a batch refused, until its secret matches again) it is AuthorizeAndFind,
  // then the write; `done` then gets a refusal of the key or the target at once, on the
  // calling thread. A failure before the key's check reached a verdict (its reads, or
  // the batch before the call ran) is answered as it is, not audited.
  void TrashWithKey(KeyedWrite key, const TrashOptions& options,
                    Completion<KeyedOutcome<TrashOutcome>> done);
  void RestoreWithKey(KeyedWrite key, Completion<KeyedOutcome<RestoreOutcome>> done);
  void SetServing(const Actor& actor, std::string_view ws, std::string_view id,
                  bool serving, StatusCompletion done);
  void CreateJob(const Actor& actor, std::string_view ws, std::string_view resource_id,
                 Completion<Job> done);
  void SetJobState(const Actor& actor, std::string_view ws, std::string_view job_id,
                   JobState state, StatusCompletion done);

  // Opaque outside core/engine (defined in engine_impl.h).
  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trashd
