// The values the engine hands out: workspaces, members, resources, trash items,
// usage, audit entries. Plain copyable structs; the store's encodings live elsewhere.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trashd/clock.h"
#include "trashd/status.h"

namespace trashd {

// Where a request came from, for permission rules (P3) and the audit log (A3).
enum class Interface { kApi, kAdmin, kWeb, kSweep };
const char* InterfaceName(Interface via);

// Who is acting. member_id is empty for the operator on the admin socket and for the
// sweep; they act with every permission.
struct Actor {
  std::string member_id;
  Interface via = Interface::kAdmin;

  static Actor Admin() { return Actor{"", Interface::kAdmin}; }
  static Actor Sweep() { return Actor{"", Interface::kSweep}; }
  static Actor Member(std::string id, Interface via) { return Actor{std::move(id), via}; }
};

constexpr int kDefaultRetentionDays = 30;
constexpr int kMinRetentionDays = 1;
constexpr int kMaxRetentionDays = 365;

struct Workspace {
  std::string slug;  // the `url`
  std::string name;
  int retention_days = kDefaultRetentionDays;
  uint64_t quota_bytes = 0;  // 0: no quota
  bool hold = false;         // legal hold: nothing of it is purged (P4)
  TimeMs created = 0;
};

struct Member {
  std::string id;
  std::string name;
  std::string role;
};

struct Role {
  std::string name;
  std::vector<std::string> permissions;  // "view_trash", "purge_trash", "trash_<T>", ...
};
constexpr const char* kOwnerRole = "owner";

struct ApiKeyInfo {
  std::string key_id;
  std::string workspace;
  std::string member_id;
  std::vector<std::string> scopes;  // "project:read", "<T>:update", ...
  bool revoked = false;
  TimeMs created = 0;
};

// The only time a key's secret exists outside the caller: returned once at creation.
struct NewApiKey {
  ApiKeyInfo info;
  std::string secret;
};

// An authorized API caller (A1).
struct Principal {
  std::string workspace;
  std::string member_id;
  std::string member_name;
  std::string key_id;
};

// A web page session (SPEC §8): who its cookie stands for and the CSRF token every
// change it makes must repeat. The cookie's token itself is never stored.
struct WebSession {
  std::string workspace;
  std::string member_id;
  std::string member_name;
  std::string role;
  std::string csrf_token;
  TimeMs created = 0;
  TimeMs expires = 0;
};

// Returned once by a log-in: the token goes into the cookie and nowhere else.
struct NewWebSession {
  WebSession session;
  std::string token;
};

enum class ResourceState { kActive, kTrashed };

struct Resource {
  std::string id;         // internal id, unique in the store
  std::string public_id;  // what clients see: == id, or "3" for numbered types
  std::string type;
  std::string workspace;
  std::string parent_id;  // empty: the workspace
  std::string slug;
  std::string name;
  std::string owner_id;
  std::string attributes;  // JSON object text
  ResourceState state = ResourceState::kActive;
  TimeMs created = 0;
  TimeMs updated = 0;
  bool serving = false;
  uint64_t own_bytes = 0;
  uint32_t open_jobs = 0;  // queued or running
  // Set while trashed:
  std::string trash_item_id;  // the trash item it travels with (itself for an item)
};

struct NewResource {
  std::string type;
  std::string parent_id;  // internal id; empty for top-level types
  std::string slug;       // empty: made from the name (numbered types ignore it)
  std::string name;
  std::string owner_id;  // empty: the acting member
  std::string attributes = "{}";
};

// A resource that was deleted directly, with what travels with it.
struct TrashItem {
  std::string type;
  std::string id;  // public id ("3" for a version)
  std::string internal_id;
  std::string name;
  std::string url;  // slug
  TimeMs deleted_at = 0;
  TimeMs scheduled_cleanup_at = 0;
  std::string deleted_by;  // member id
  std::string deleted_by_name;
  uint64_t size = 0;      // bytes a purge now would free (Q3)
  uint64_t cascaded = 0;  // descendants that travel with it
  bool cleanup_delete_images = false;
  bool hold = false;      // its own legal hold
  std::string parent_id;  // internal id of the parent; empty at top level
  std::string parent_type;
  std::string parent_name;
  std::string parent_url;
  bool parent_in_trash = false;  // T7
  std::string section;
  // The item whose subtree holds this one (trashed before it, T7): its size already
  // counts this one's bytes. Empty for an item at the top of the Trash.
  std::string container_id;
  std::string owner_id;  // the member who owns it (T6)
};

struct TrashQuery {
  std::string type;  // empty: every type
  size_t limit = 1000;
  std::string cursor;  // from a previous page's next_cursor
};

// The web page's view of the Trash: search by name, a sort, and an offset page,
// decided in the daemon so a page never loads the whole Trash.
enum class TrashSort { kDeletedAt, kDaysLeft, kSize, kName };
struct TrashSearch {
  std::string type;  // empty: every type
  std::string text;  // case-insensitive part of the name; empty: every item
  TrashSort sort = TrashSort::kDeletedAt;
  bool descending = true;
  bool group_by_type = false;  // types in name order first, then the sort
  size_t offset = 0;
  size_t limit = 50;  // at most 1000
};
struct TrashSearchPage {
  std::vector<TrashItem> items;
  uint64_t total = 0;                       // items that match, over every page
  std::map<std::string, uint64_t> by_type;  // items of each type in the Trash
};

// What a purge of one item would take away now, for the page's confirmation dialog.
struct PurgePreview {
  TrashItem item;
  uint64_t descendants = 0;       // resources that go with it
  uint64_t bytes = 0;             // bytes freed (Q3)
  uint64_t files = 0;             // blob files removed
  uint64_t exclusive_images = 0;  // images referenced by nothing else, removed
  uint64_t kept_images = 0;       // images kept: shared, or in the asset library (P2)
};

struct TrashPage {
  std::vector<TrashItem> items;
  std::string next_cursor;  // empty on the last page
};

struct TrashOptions {
  bool cleanup_delete_images = false;  // P2, projects
};

struct TrashOutcome {
  TrashItem item;
  int cancelled_jobs = 0;
};

struct RestoreOutcome {
  std::string type;
  std::string id;  // public id
  std::string internal_id;
  std::string slug;      // the slug it came back under
  bool renamed = false;  // R3: the old slug was taken
  std::string previous_slug;
  uint64_t restored = 0;  // resources brought back, itself included
};

// One answer per item of a bulk restore (R6).
struct RestoreResult {
  std::string internal_id;
  Status status;
  std::optional<RestoreOutcome> outcome;
};

struct PurgeOutcome {
  uint64_t items = 0;      // trash items purged
  uint64_t resources = 0;  // resources removed, descendants included
  uint64_t bytes_freed = 0;
  std::vector<std::string> skipped_held;  // item ids kept by a hold (EmptyTrash)
};

struct SweepReport {
  TimeMs now = 0;
  bool dry_run = false;
  uint64_t items = 0;
  uint64_t resources = 0;
  uint64_t bytes = 0;
  uint64_t batches = 0;
  uint64_t skipped_held = 0;
  int64_t duration_ms = 0;
  std::vector<TrashItem> would_purge;  // dry run only
  // The clock-jump guard (SweepOptions::max_clock_jump). clock_jump_ms is how far
  // `now` is past the start of the last completed sweep (last_sweep) when that is
  // more than the limit, else 0. held_by_clock_jump: this sweep purged nothing for
  // that reason, and held_items expired items wait for an operator to accept the
  // clock.
  bool held_by_clock_jump = false;
  TimeMs clock_jump_ms = 0;
  TimeMs last_sweep = 0;
  uint64_t held_items = 0;
};

struct SweepRun {
  TimeMs started = 0;
  TimeMs finished = 0;  // 0: interrupted or running
  uint64_t items = 0;
  uint64_t bytes = 0;
  int64_t duration_ms = 0;
};

// Physical bytes are distinct asset contents, each counted once. trash_bytes is what
// emptying the Trash would free now: content referenced only from the Trash, by kinds
// a purge releases. Images of a project deleted without cleanupDeleteImages stay in
// the workspace's asset library at purge (P2), so they count as active.
struct Usage {
  uint64_t active_bytes = 0;  // content something outside the Trash keeps
  uint64_t trash_bytes = 0;   // content a purge of the whole Trash would free
  uint64_t quota_bytes = 0;
  // Logical bytes by type (a resource's own assets, shared ones counted per resource).
  std::map<std::string, uint64_t> active_by_type;
  std::map<std::string, uint64_t> trash_by_type;
  uint64_t trash_items = 0;
  uint64_t total() const { return active_bytes + trash_bytes; }
};

struct StoredAsset {
  std::string hash;  // hex SHA-256 of the content
  uint64_t bytes = 0;
  bool created = false;  // false: the workspace already had this content
};

// "2026-04-20T17:05:33.000Z": how every interface writes a time (ISO-8601, UTC, ms).
std::string IsoTime(TimeMs t);

enum class JobState { kQueued, kRunning, kFinished, kCancelled };
const char* JobStateName(JobState s);

struct Job {
  std::string id;
  std::string workspace;
  std::string resource_id;
  JobState state = JobState::kQueued;
  std::string reason;  // why it was cancelled
  TimeMs created = 0;
  TimeMs updated = 0;
};

struct AuditEntry {
  uint64_t seq = 0;
  TimeMs time = 0;
  std::string workspace;
  std::string actor;  // member id, or "admin" / "sweep"
  std::string actor_name;
  std::string via;     // api, admin, web, sweep
  std::string action;  // "trash", "restore", "purge", "refused:trash", ...
  std::string type;
  std::string target_id;
  std::string target_name;
  uint64_t descendants = 0;
  bool ok = true;
  std::string detail;  // the refusal's message, or extra facts
};

struct Event {
  uint64_t seq = 0;
  std::string id;  // unique, for de-duplication by receivers
  std::string workspace;
  std::string type;     // "trash", "restore", "purge", "job.cancelled", ...
  std::string payload;  // JSON object text
  TimeMs time = 0;
};

struct FsckReport {
  uint64_t resources = 0;
  uint64_t assets = 0;
  uint64_t blob_files = 0;
  std::vector<std::string> differences;  // empty when everything matches
  bool ok() const { return differences.empty(); }
};

}  // namespace trashd
