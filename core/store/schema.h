// The on-disk layout of every key of every store table (Table in store.h): the one
// place that knows it, as leveldb's db/dbformat.h does. Each kind of key has a typed
// builder (Encode) and parser (Decode), and the scans the engine makes have their
// prefix builders here; no other file joins or splits a key.
//
// A key is a sequence of parts joined by a NUL byte. A number part is 8 bytes
// big-endian, so that byte order is numeric order; times are stored inverted where a
// table lists newest first. Name parts (workspace slugs, ids, types, slugs, kinds,
// hashes) never contain NUL: the engine validates them before they get here. These
// bytes are the format of existing stores: changing one is a schema change
// (Store::kSchemaVersion), and tests/core/schema_test.cc pins each of them.
//
// A key struct only views its parts: Encode copies them into a new string; Decode
// points them into the key it parsed, which must outlive the struct. Decode returns
// false, reading nothing outside the key, for a key not of its kind's shape.
// Everything here is a pure function of its arguments, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "trashd/clock.h"

namespace trashd::schema {

// ---- numbers stored as values (counters, sequences, times in kMeta) ----------------

std::string EncodeNumber(uint64_t v);
// 0 for a value that is not 8 bytes (none is ever written so).
uint64_t DecodeNumber(std::string_view value);

// ---- kMeta: name -> value ------------------------------------------------------------

inline constexpr std::string_view kSchemaVersionKey = "schema_version";  // -> number
inline constexpr std::string_view kAuditSeqKey = "audit_seq";            // -> number
inline constexpr std::string_view kOutboxSeqKey = "outbox_seq";          // -> number
inline constexpr std::string_view kSweepSeqKey = "sweep_seq";            // -> number
inline constexpr std::string_view kLastSweepKey = "last_sweep";          // -> time
// -> an expiry position (an ExpiryKey, or an ExpiryBoundAfter).
inline constexpr std::string_view kExpiringWatermarkKey = "expiring_watermark";

// "expiring_held" ws id -> the scheduledCleanupAt a held item had its notice for.
struct ExpiringHeldKey {
  std::string_view ws;
  std::string_view id;
  std::string Encode() const;
  static bool Decode(std::string_view key, ExpiringHeldKey* out);
};

// "blob_claim" ws hash token -> a claim on one blob file (assets/blob_claims.h): an
// upload writing it or a process removing it, and when it was taken.
struct BlobClaimKey {
  std::string_view ws;
  std::string_view hash;
  std::string_view token;
  std::string Encode() const;
  static bool Decode(std::string_view key, BlobClaimKey* out);
};
// The claims on one blob; with no arguments, every claim.
std::string BlobClaimsPrefix(std::string_view ws, std::string_view hash);
std::string BlobClaimsPrefix();

// "ws_changes" ws -> number: grows with every change to the workspace that commits,
// on a store several processes share (Engine::WorkspaceChanges).
std::string WorkspaceChangesKey(std::string_view ws);

// "lease" name -> LeaseRecord (lease/lease.h): which node leads `name` ("sweep").
struct LeaseKey {
  std::string_view name;
  std::string Encode() const;
  static bool Decode(std::string_view key, LeaseKey* out);
};

// ---- tables keyed by one name: the key is the name itself ----------------------------

inline std::string_view WorkspaceKey(std::string_view ws) { return ws; }  // kWorkspaces
inline std::string_view ApiKeyKey(std::string_view key_id) { return key_id; }  // kKeys
inline std::string_view ResourceKey(std::string_view id) { return id; }     // kResources
inline std::string_view JobKey(std::string_view job_id) { return job_id; }  // kJobs

// ---- kMembers: ws member_id -> MemberRecord
// --------------------------------------------

struct MemberKey {
  std::string_view ws;
  std::string_view member_id;
  std::string Encode() const;
  static bool Decode(std::string_view key, MemberKey* out);
};
std::string MembersPrefix(std::string_view ws);

// ---- kRoles: ws role -> RoleRecord
// ------------------------------------------------------

struct RoleKey {
  std::string_view ws;
  std::string_view role;
  std::string Encode() const;
  static bool Decode(std::string_view key, RoleKey* out);
};
std::string RolesPrefix(std::string_view ws);

// ---- kChildren: ws parent_id type id -> "" (parent_id "" for top level)
// ----------------

struct ChildKey {
  std::string_view ws;
  std::string_view parent_id;
  std::string_view type;
  std::string_view id;
  std::string Encode() const;
  static bool Decode(std::string_view key, ChildKey* out);
  // Only the id, without checking the other parts (no part holds a separator): for a
  // scan under ChildrenPrefix, which visits one key per descendant in a cascade.
  // Empty if the key has no separator.
  static std::string_view IdOf(std::string_view key);
};
// The children of `parent_id` of `type`, or of every type when `type` is empty.
std::string ChildrenPrefix(std::string_view ws, std::string_view parent_id,
                           std::string_view type = {});

// ---- kSlugs: ws scope_id type slug -> resource id (active resources only)
// --------------

struct SlugKey {
  std::string_view ws;
  std::string_view scope_id;
  std::string_view type;
  std::string_view slug;
  std::string Encode() const;
  static bool Decode(std::string_view key, SlugKey* out);
};

// ---- kTrashByTime: ws ~deleted_at id -> "" (newest first)
// ------------------------------

struct TrashByTimeKey {
  std::string_view ws;
  TimeMs deleted_at = 0;
  std::string_view id;
  std::string Encode() const;
  static bool Decode(std::string_view key, TrashByTimeKey* out);
};
std::string TrashByTimePrefix(std::string_view ws);

// ---- kTrashByType: ws type ~deleted_at id -> "" (newest first)
// -------------------------

struct TrashByTypeKey {
  std::string_view ws;
  std::string_view type;
  TimeMs deleted_at = 0;
  std::string_view id;
  std::string Encode() const;
  static bool Decode(std::string_view key, TrashByTypeKey* out);
};
std::string TrashByTypePrefix(std::string_view ws, std::string_view type);

// Where a key of either listing sits below its prefix (TrashByTimePrefix or
// TrashByTypePrefix): ~deleted_at id. A page of the Trash ends at one (its cursor).
struct TrashPosition {
  TimeMs deleted_at = 0;
  std::string_view id;
  std::string Encode() const;
  static bool Decode(std::string_view position, TrashPosition* out);
};

// ---- kExpiry: scheduled_cleanup_at ws id -> "" (items the sweep may purge)
// -------------

struct ExpiryKey {
  TimeMs cleanup_at = 0;
  std::string_view ws;
  std::string_view id;
  std::string Encode() const;
  static bool Decode(std::string_view key, ExpiryKey* out);
};
// A position above every expiry key of time `t` and below every one of a later time.
std::string ExpiryBoundAfter(TimeMs t);

// ---- kAssets: ws hash -> AssetRecord; kUnlink: ws hash -> ""
// ---------------------------

struct AssetKey {
  std::string_view ws;
  std::string_view hash;
  std::string Encode() const;
  static bool Decode(std::string_view key, AssetKey* out);
};
// A blob file to remove once the transaction dropping its asset has committed.
using UnlinkKey = AssetKey;

// ---- kAssetRefs: ws hash resource_id kind -> ""
// ----------------------------------------

struct AssetRefKey {
  std::string_view ws;
  std::string_view hash;
  std::string_view resource_id;
  std::string_view kind;
  std::string Encode() const;
  static bool Decode(std::string_view key, AssetRefKey* out);
};
std::string AssetRefsPrefix(std::string_view ws, std::string_view hash);

// ---- kResourceAssets: resource_id kind hash -> ""
// --------------------------------------

struct ResourceAssetKey {
  std::string_view resource_id;
  std::string_view kind;
  std::string_view hash;
  std::string Encode() const;
  static bool Decode(std::string_view key, ResourceAssetKey* out);
};
std::string ResourceAssetsPrefix(std::string_view resource_id);

// ---- kJobsByResource: resource_id job_id -> ""
// -----------------------------------------

struct JobByResourceKey {
  std::string_view resource_id;
  std::string_view job_id;
  std::string Encode() const;
  static bool Decode(std::string_view key, JobByResourceKey* out);
};
std::string JobsByResourcePrefix(std::string_view resource_id);

// ---- kCounters: ws name -> number
// ------------------------------------------------------

struct CounterKey {
  std::string_view ws;
  std::string_view name;
  std::string Encode() const;
  static bool Decode(std::string_view key, CounterKey* out);
};

// ---- kAudit: ws seq -> AuditRecord (oldest first)
// --------------------------------------

struct AuditKey {
  std::string_view ws;
  uint64_t seq = 0;
  std::string Encode() const;
  static bool Decode(std::string_view key, AuditKey* out);
};
std::string AuditPrefix(std::string_view ws);

// ---- kOutbox: seq -> EventRecord
// -------------------------------------------------------

struct OutboxKey {
  uint64_t seq = 0;
  std::string Encode() const;
  static bool Decode(std::string_view key, OutboxKey* out);
};

// ---- kSweepRuns: started seq -> SweepRunRecord (oldest first)
// --------------------------

struct SweepRunKey {
  TimeMs started = 0;
  uint64_t seq = 0;
  std::string Encode() const;
  static bool Decode(std::string_view key, SweepRunKey* out);
};

// ---- kPasswords: ws member_id -> PasswordRecord
// ----------------------------------------

// A member's web log-in password (its Argon2id hash); same shape as MemberKey.
struct PasswordKey {
  std::string_view ws;
  std::string_view member_id;
  std::string Encode() const;
  static bool Decode(std::string_view key, PasswordKey* out);
};

// ---- kSessions: token hash -> SessionRecord
// --------------------------------------------

// A web session by the lower-case hex SHA-256 of its cookie's token, so that a copy
// of the store holds no usable session.
inline std::string_view SessionKey(std::string_view token_hash) { return token_hash; }

}  // namespace trashd::schema
