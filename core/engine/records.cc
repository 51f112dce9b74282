#include "engine/records.h"

#include "util/record.h"

namespace trashd {

std::string ResourceRec::Encode() const {
  RecordBuffer buf;
  return std::string(EncodeTo(&buf));
}

std::string_view ResourceRec::EncodeTo(RecordBuffer* buf) const {
  constexpr size_t kVarint = RecordWriter::kMaxVarint;
  // Room for the whole record at once: the fields below then never grow the buffer.
  size_t bound = 24 * kVarint + id.size() + type.size() + ws.size() + parent_id.size() +
                 scope_id.size() + slug.size() + name.size() + owner.size() +
                 attributes.size() + trash_item.size() + deleted_by.size() +
                 container.size();
  RecordWriter writer(buf);
  {
    RecordWriter::Reserved w = writer.Reserve(bound);
    w.S(id).S(type).S(ws).S(parent_id).S(scope_id).S(slug).S(name).S(owner).S(attributes);
    w.I(created).I(updated).U(static_cast<uint64_t>(state)).B(serving).B(serving_paused);
    w.B(slug_released).U(own_bytes).U(asset_refs).U(open_jobs).U(next_child_seq);
    w.S(trash_item);
    if (is_item()) {
      w.I(deleted_at).I(scheduled_cleanup_at).S(deleted_by).S(container);
      w.B(cleanup_delete_images).B(hold).U(cascaded).U(size);
    }
  }
  return writer.view();
}

bool ResourceRec::Decode(std::string_view data, ResourceRec* r) {
  RecordReader in(data);
  in.S(&r->id);
  in.S(&r->type);
  in.S(&r->ws);
  in.S(&r->parent_id);
  in.S(&r->scope_id);
  in.S(&r->slug);
  in.S(&r->name);
  in.S(&r->owner);
  in.S(&r->attributes);
  r->created = in.I();
  r->updated = in.I();
  r->state = in.U() == 1 ? ResourceState::kTrashed : ResourceState::kActive;
  r->serving = in.B();
  r->serving_paused = in.B();
  r->slug_released = in.B();
  r->own_bytes = in.U();
  r->asset_refs = static_cast<uint32_t>(in.U());
  r->open_jobs = static_cast<uint32_t>(in.U());
  r->next_child_seq = in.U();
  in.S(&r->trash_item);
  r->deleted_at = r->scheduled_cleanup_at = 0;
  r->deleted_by.clear();
  r->container.clear();
  r->cleanup_delete_images = r->hold = false;
  r->cascaded = r->size = 0;
  if (r->is_item()) {
    r->deleted_at = in.I();
    r->scheduled_cleanup_at = in.I();
    in.S(&r->deleted_by);
    in.S(&r->container);
    r->cleanup_delete_images = in.B();
    r->hold = in.B();
    r->cascaded = in.U();
    r->size = in.U();
  }
  return in.ok();
}

std::string AssetRec::Encode() const {
  return RecordWriter().U(bytes).U(refs).U(live_refs).S(holder).I(created).str();
}
bool AssetRec::Decode(std::string_view data, AssetRec* a) {
  RecordReader in(data);
  a->bytes = in.U();
  a->refs = in.U();
  a->live_refs = in.U();
  a->holder = in.S();
  a->created = in.I();
  return in.ok();
}

std::string KeyRec::Encode() const {
  RecordWriter w;
  w.S(info.key_id).S(info.workspace).S(info.member_id).List(info.scopes).B(info.revoked);
  w.I(info.created).S(secret_hash);
  return w.str();
}
bool KeyRec::Decode(std::string_view data, KeyRec* k) {
  RecordReader in(data);
  k->info.key_id = in.S();
  k->info.workspace = in.S();
  k->info.member_id = in.S();
  k->info.scopes = in.List();
  k->info.revoked = in.B();
  k->info.created = in.I();
  k->secret_hash = in.S();
  return in.ok();
}

std::string EncodeWorkspace(const Workspace& w) {
  return RecordWriter()
      .S(w.slug)
      .S(w.name)
      .U(static_cast<uint64_t>(w.retention_days))
      .U(w.quota_bytes)
      .B(w.hold)
      .I(w.created)
      .str();
}
bool DecodeWorkspace(std::string_view data, Workspace* w) {
  RecordReader in(data);
  w->slug = in.S();
  w->name = in.S();
  w->retention_days = static_cast<int>(in.U());
  w->quota_bytes = in.U();
  w->hold = in.B();
  w->created = in.I();
  return in.ok();
}

std::string PasswordRec::Encode() const {
  return RecordWriter().S(hash).U(version).str();
}
bool PasswordRec::Decode(std::string_view data, PasswordRec* out) {
  RecordReader in(data);
  out->hash = in.S();
  out->version = in.U();
  return in.ok();
}

std::string SessionRec::Encode() const {
  return RecordWriter()
      .S(ws)
      .S(member_id)
      .S(csrf_token)
      .I(created)
      .I(expires)
      .U(password_version)
      .str();
}
bool SessionRec::Decode(std::string_view data, SessionRec* out) {
  RecordReader in(data);
  out->ws = in.S();
  out->member_id = in.S();
  out->csrf_token = in.S();
  out->created = in.I();
  out->expires = in.I();
  out->password_version = in.U();
  return in.ok();
}

std::string EncodeMember(const Member& m) {
  return RecordWriter().S(m.id).S(m.name).S(m.role).str();
}
bool DecodeMember(std::string_view data, Member* m) {
  RecordReader in(data);
  m->id = in.S();
  m->name = in.S();
  m->role = in.S();
  return in.ok();
}

std::string EncodeRole(const Role& r) {
  return RecordWriter().S(r.name).List(r.permissions).str();
}
bool DecodeRole(std::string_view data, Role* r) {
  RecordReader in(data);
  r->name = in.S();
  r->permissions = in.List();
  return in.ok();
}

std::string EncodeJob(const Job& j) {
  return RecordWriter()
      .S(j.id)
      .S(j.workspace)
      .S(j.resource_id)
      .U(static_cast<uint64_t>(j.state))
      .S(j.reason)
      .I(j.created)
      .I(j.updated)
      .str();
}
bool DecodeJob(std::string_view data, Job* j) {
  RecordReader in(data);
  j->id = in.S();
  j->workspace = in.S();
  j->resource_id = in.S();
  j->state = static_cast<JobState>(in.U());
  j->reason = in.S();
  j->created = in.I();
  j->updated = in.I();
  return in.ok();
}

std::string EncodeAudit(const AuditEntry& a) {
  RecordWriter w;
  w.U(a.seq).I(a.time).S(a.workspace).S(a.actor).S(a.actor_name).S(a.via).S(a.action);
  w.S(a.type).S(a.target_id).S(a.target_name).U(a.descendants).B(a.ok).S(a.detail);
  return w.str();
}
bool DecodeAudit(std::string_view data, AuditEntry* a) {
  RecordReader in(data);
  a->seq = in.U();
  a->time = in.I();
  a->workspace = in.S();
  a->actor = in.S();
  a->actor_name = in.S();
  a->via = in.S();
  a->action = in.S();
  a->type = in.S();
  a->target_id = in.S();
  a->target_name = in.S();
  a->descendants = in.U();
  a->ok = in.B();
  a->detail = in.S();
  return in.ok();
}

std::string EncodeEvent(const Event& e) {
  return RecordWriter()
      .U(e.seq)
      .S(e.id)
      .S(e.workspace)
      .S(e.type)
      .S(e.payload)
      .I(e.time)
      .str();
}
bool DecodeEvent(std::string_view data, Event* e) {
  RecordReader in(data);
  e->seq = in.U();
  e->id = in.S();
  e->workspace = in.S();
  e->type = in.S();
  e->payload = in.S();
  e->time = in.I();
  return in.ok();
}

std::string EncodeSweepRun(const SweepRun& r) {
  return RecordWriter()
      .I(r.started)
      .I(r.finished)
      .U(r.items)
      .U(r.bytes)
      .I(r.duration_ms)
      .str();
}
bool DecodeSweepRun(std::string_view data, SweepRun* r) {
  RecordReader in(data);
  r->started = in.I();
  r->finished = in.I();
  r->items = in.U();
  r->bytes = in.U();
  r->duration_ms = in.I();
  return in.ok();
}

}  // namespace trashd
