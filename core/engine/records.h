// How the engine's records are laid out in the store. Internal to core/engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/domain.h"
#include "util/record.h"

namespace trashd {

// A resource as stored. Trash fields are meaningful only while state is kTrashed;
// item fields (deleted_at ... size) only on the item itself (trash_item == id).
struct ResourceRec {
  std::string id, type, ws, parent_id, scope_id, slug, name, owner, attributes;
  TimeMs created = 0, updated = 0;
  ResourceState state = ResourceState::kActive;
  bool serving = false;
  bool serving_paused = false;  // PauseServing stopped it; ResumeServing restarts it
  bool slug_released = false;   // its slug entry was dropped when it was trashed
  uint64_t own_bytes = 0;
  uint32_t asset_refs = 0;  // entries in kResourceAssets
  uint32_t open_jobs = 0;
  uint64_t next_child_seq = 1;  // numbers for kNumberedPerParent children
  // Trash:
  std::string trash_item;  // the item it travels with; == id on the item
  TimeMs deleted_at = 0, scheduled_cleanup_at = 0;
  std::string deleted_by;
  std::string container;  // item: the trash item whose subtree holds it (T7)
  bool cleanup_delete_images = false;
  bool hold = false;
  uint64_t cascaded = 0;
  uint64_t size = 0;  // item: Q3, bytes a purge frees now

  bool is_item() const { return state == ResourceState::kTrashed && trash_item == id; }
  std::string Encode() const;
  // Encodes into *buf, reusing its capacity; the result views *buf.
  std::string_view EncodeTo(RecordBuffer* buf) const;
  // Decodes into *out, reusing the capacity of its strings.
  static bool Decode(std::string_view data, ResourceRec* out);
};

// An asset's bookkeeping. live_refs counts references that a purge of the trash would
// not free (from active resources, from the library, and kinds a type keeps at purge).
// holder, when live_refs == 0, is the innermost trash item whose subtree holds every
// reference ("" when they are spread over unrelated items).
struct AssetRec {
  uint64_t bytes = 0;
  uint64_t refs = 0;
  uint64_t live_refs = 0;
  std::string holder;
  TimeMs created = 0;

  std::string Encode() const;
  static bool Decode(std::string_view data, AssetRec* out);
};

struct KeyRec {
  ApiKeyInfo info;
  std::string secret_hash;  // hex SHA-256 of the whole secret

  std::string Encode() const;
  static bool Decode(std::string_view data, KeyRec* out);
};

// A member's web log-in password. `version` grows at every change; a session made
// under another version has ended.
struct PasswordRec {
  std::string hash;  // libsodium's Argon2id string
  uint64_t version = 0;

  std::string Encode() const;
  static bool Decode(std::string_view data, PasswordRec* out);
};

// A web session as stored under the hash of its token.
struct SessionRec {
  std::string ws, member_id, csrf_token;
  TimeMs created = 0, expires = 0;
  uint64_t password_version = 0;

  std::string Encode() const;
  static bool Decode(std::string_view data, SessionRec* out);
};

std::string EncodeWorkspace(const Workspace& w);
bool DecodeWorkspace(std::string_view data, Workspace* out);
std::string EncodeMember(const Member& m);
bool DecodeMember(std::string_view data, Member* out);
std::string EncodeRole(const Role& r);
bool DecodeRole(std::string_view data, Role* out);
std::string EncodeJob(const Job& j);
bool DecodeJob(std::string_view data, Job* out);
std::string EncodeAudit(const AuditEntry& a);
bool DecodeAudit(std::string_view data, AuditEntry* out);
std::string EncodeEvent(const Event& e);
bool DecodeEvent(std::string_view data, Event* out);
std::string EncodeSweepRun(const SweepRun& r);
bool DecodeSweepRun(std::string_view data, SweepRun* out);

}  // namespace trashd
