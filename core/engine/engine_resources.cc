// Resources, jobs and the serving flag (their assets: engine_assets.cc).
#include <algorithm>

#include "engine/engine_impl.h"
#include "engine/json.h"
#include "util/crypto.h"

namespace trashd {

// The engine's inside, for the calls built outside Engine's members.
using Impl = Engine::Impl;

std::string Article(std::string_view noun) {
  return (std::string_view("aeiou").find(noun.empty() ? 'x' : noun[0]) !=
                  std::string_view::npos
              ? "an "
              : "a ") +
         std::string(noun);
}

// An active resource of `ws`, or NotFound (T2: trashed ones do not exist out here).
Status LoadActive(ReadTxn& txn, std::string_view ws, std::string_view id,
                  ResourceRec* out) {
  TRASHD_RETURN_IF_ERROR(Engine::Impl::LoadOwned(txn, ws, id, out));
  if (out->state != ResourceState::kActive) {
    return NotFound(out->type + " " + std::string(id) + " not found (it is in Trash)");
  }
  return Status::Ok();
}

namespace {

// Crockford base32 of the time, then randomness: ids made together sort together.
std::string NewOpaqueId(std::string_view prefix, TimeMs now) {
  static const char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string id(prefix);
  id.push_back('_');
  uint64_t t = static_cast<uint64_t>(now);
  for (int shift = 45; shift >= 0; shift -= 5) id.push_back(kAlphabet[(t >> shift) & 31]);
  id += crypto::RandomBase32(10);
  return id;
}

bool HasParentType(const TypeInfo& info, std::string_view parent_type) {
  return std::find(info.parent_types.begin(), info.parent_types.end(), parent_type) !=
         info.parent_types.end();
}

}  // namespace

Resource ToResource(const ResourceRec& r, const ResourceType* type) {
  Resource out;
  out.id = r.id;
  out.public_id = PublicIdOf(r, type);
  out.type = r.type;
  out.workspace = r.ws;
  out.parent_id = r.parent_id;
  out.slug = r.slug;
  out.name = r.name;
  out.owner_id = r.owner;
  out.attributes = r.attributes;
  out.state = r.state;
  out.created = r.created;
  out.updated = r.updated;
  out.serving = r.serving;
  out.own_bytes = r.own_bytes;
  out.open_jobs = r.open_jobs;
  out.trash_item_id = r.trash_item;
  return out;
}

namespace {

// The parent of a new resource: an active resource of an allowed type, or the
// workspace.
Status PlaceUnderParent(WriteTxn& txn, const NewResource& spec, const TypeInfo& info,
                        ResourceRec* rec, ResourceRec* parent) {
  if (spec.parent_id.empty()) {
    if (HasParentType(info, "workspace")) return Status::Ok();
    return InvalidArgument(Article(spec.type) + " needs a parent (" +
                           info.parent_types.front() + ")");
  }
  Status p = LoadActive(txn, rec->ws, spec.parent_id, parent);
  if (!p.ok()) return NotFound("parent " + spec.parent_id + " not found");
  if (!HasParentType(info, parent->type)) {
    return InvalidArgument(Article(spec.type) + " cannot be created under " +
                           Article(parent->type));
  }
  rec->parent_id = parent->id;
  return Status::Ok();
}

// A new resource's id, slug, name and the scope its slug is unique in: the nearest
// ancestor of the type's declared scope type, else the parent.
Status NameAndScope(WriteTxn& txn, const NewResource& spec, const TypeInfo& info,
                    TimeMs now, ResourceRec* parent, ResourceRec* rec) {
  if (info.id_form == IdForm::kNumberedPerParent) {
    if (rec->parent_id.empty()) return Internal("numbered types need a parent");
    uint64_t n = parent->next_child_seq++;
    parent->updated = now;
    Impl::PutResource(txn, *parent);
    rec->id = parent->id + "." + std::to_string(n);
    rec->slug = std::to_string(n);
  } else {
    rec->id = NewOpaqueId(info.id_prefix, now);
    rec->slug = spec.slug.empty() ? SlugFromName(spec.name, spec.type) : spec.slug;
    if (!ValidSlug(rec->slug)) {
      return InvalidArgument("url \"" + rec->slug +
                             "\" must be 1-100 characters of a-z, 0-9, '-', '_' and '.', "
                             "starting with a letter or digit");
    }
  }
  rec->name = spec.name.empty() ? rec->slug : spec.name;
  rec->scope_id = rec->parent_id;
  if (!info.slug_scope_type.empty() && !rec->parent_id.empty()) {
    ResourceRec cur = *parent;
    while (cur.type != info.slug_scope_type && !cur.parent_id.empty()) {
      if (!Impl::LoadResource(txn, cur.parent_id, &cur)) break;
    }
    if (cur.type == info.slug_scope_type) rec->scope_id = cur.id;
  }
  return Status::Ok();
}

// Creates a resource under its parent (or the workspace).
WriteCall<Resource> CreateCall(Engine::Impl* impl_, const Actor& actor_in,
                               std::string_view ws_in, const NewResource& spec_in) {
  WriteCall<Resource> call{actor_in, std::string(ws_in), "create", spec_in.type, "",
                           nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in), spec = spec_in](
                  WriteTxn& txn, Resource* out) -> Status {
    const ResourceType* type = impl_->TypeOf(spec.type);
    if (!type) {
      return InvalidArgument("unknown resource type \"" + spec.type + "\"");
    }
    const TypeInfo& info = type->Info();
    Status valid =
        type->ValidateAttributes(spec.attributes.empty() ? "{}" : spec.attributes);
    if (!valid.ok()) {
      return InvalidArgument("invalid " + spec.type + " attributes: " + valid.message());
    }
    ResourceRec rec;
    Workspace w;
    if (!Impl::LoadWorkspace(txn, ws, &w))
      return NotFound("no workspace " + std::string(ws));
    TimeMs now = impl_->clock->Now();
    rec.type = spec.type;
    rec.ws = ws;
    rec.created = rec.updated = now;
    rec.attributes = spec.attributes.empty() ? "{}" : spec.attributes;
    rec.owner = spec.owner_id.empty() ? actor.member_id : spec.owner_id;
    if (!rec.owner.empty() &&
        !txn.Has(Table::kMembers, schema::MemberKey{ws, rec.owner}.Encode())) {
      return InvalidArgument("owner " + rec.owner + " is not a member of " +
                             std::string(ws));
    }
    ResourceRec parent;
    TRASHD_RETURN_IF_ERROR(PlaceUnderParent(txn, spec, info, &rec, &parent));
    TRASHD_RETURN_IF_ERROR(NameAndScope(txn, spec, info, now, &parent, &rec));
    std::string slug_key = schema::SlugKey{ws, rec.scope_id, rec.type, rec.slug}.Encode();
    if (txn.Has(Table::kSlugs, slug_key)) {
      return Conflict(Article(rec.type) + " with url \"" + rec.slug +
                      "\" already exists here");
    }
    txn.Put(Table::kSlugs, slug_key, rec.id);
    txn.Put(Table::kChildren,
            schema::ChildKey{ws, rec.parent_id, rec.type, rec.id}.Encode(), "");
    Impl::PutResource(txn, rec);
    impl_->Audit(txn, actor, ws, "create", rec.type, rec.id, rec.name, 0, true, rec.slug);
    *out = ToResource(rec, type);
    return Status::Ok();
  };
  return call;
}

}  // namespace

Result<Resource> Engine::CreateResource(const Actor& actor, std::string_view ws,
                                        const NewResource& spec) {
  return impl_->Run(CreateCall(impl_.get(), actor, ws, spec));
}

void Engine::CreateResource(const Actor& actor, std::string_view ws,
                            const NewResource& spec, Completion<Resource> done) {
  impl_->Submit(CreateCall(impl_.get(), actor, ws, spec), std::move(done));
}

Result<Resource> Engine::GetResource(std::string_view ws, std::string_view id) {
  auto txn = impl_->store->BeginRead();
  ResourceRec r;
  TRASHD_RETURN_IF_ERROR(LoadActive(*txn, ws, id, &r));
  return ToResource(r, impl_->TypeOf(r.type));
}

Result<Resource> Engine::FindResource(std::string_view ws, std::string_view type,
                                      std::string_view scope_id, std::string_view slug) {
  auto txn = impl_->store->BeginRead();
  std::string_view id;
  ResourceRec r;
  if (!txn->Get(Table::kSlugs, schema::SlugKey{ws, scope_id, type, slug}.Encode(), &id) ||
      !Impl::LoadResource(*txn, id, &r) || r.state != ResourceState::kActive) {
    return Impl::Missing(
        *txn, NotFound(std::string(type) + " " + std::string(slug) + " not found"));
  }
  return ToResource(r, impl_->TypeOf(r.type));
}

std::vector<Resource> Engine::ListResources(std::string_view ws,
                                            std::string_view parent_id,
                                            std::string_view type) {
  std::vector<Resource> out;
  auto txn = impl_->store->BeginRead();
  txn->ScanPrefix(Table::kChildren, schema::ChildrenPrefix(ws, parent_id, type),
                  [&](std::string_view k, auto) {
                    schema::ChildKey child;
                    ResourceRec r;
                    if (schema::ChildKey::Decode(k, &child) &&
                        Impl::LoadResource(*txn, child.id, &r) &&
                        r.state == ResourceState::kActive) {
                      out.push_back(ToResource(r, impl_->TypeOf(r.type)));
                    }
                    return true;
                  });
  return out;
}

Status Engine::TransferOwnership(const Actor& actor, std::string_view ws,
                                 std::string_view id, std::string_view new_owner) {
  return impl_->RunAudited(
      actor, ws, "transfer-ownership", "", id, [&](WriteTxn& txn) -> Status {
        ResourceRec r;
        TRASHD_RETURN_IF_ERROR(LoadActive(txn, ws, id, &r));
        if (!actor.member_id.empty() && actor.member_id != r.owner) {
          Member m;
          std::string_view v;
          bool owner_role =
              txn.Get(Table::kMembers, schema::MemberKey{ws, actor.member_id}.Encode(),
                      &v) &&
              DecodeMember(v, &m) && m.role == kOwnerRole;
          if (!owner_role) {
            return PermissionDenied("Only the " + r.type + "'s owner, " +
                                    Impl::MemberName(txn, ws, r.owner) +
                                    ", or a workspace owner can transfer it.");
          }
        }
        if (!txn.Has(Table::kMembers, schema::MemberKey{ws, new_owner}.Encode())) {
          return InvalidArgument(std::string(new_owner) + " is not a member of " +
                                 std::string(ws));
        }
        std::string from = r.owner;
        r.owner = new_owner;
        r.updated = impl_->clock->Now();
        Impl::PutResource(txn, r);
        impl_->Audit(txn, actor, ws, "transfer-ownership", r.type, r.id, r.name, 0, true,
                     from + " -> " + std::string(new_owner));
        return Status::Ok();
      });
}

namespace {

// Starts or stops serving a model.
WriteCall<NoValue> ServingCall(Engine::Impl* impl_, const Actor& actor_in,
                               std::string_view ws_in, std::string_view id_in,
                               bool serving) {
  WriteCall<NoValue> call{actor_in, std::string(ws_in), serving ? "serve" : "unserve",
                          "",       std::string(id_in), nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in), id = std::string(id_in),
               serving](WriteTxn& txn, NoValue*) -> Status {
    ResourceRec r;
    TRASHD_RETURN_IF_ERROR(LoadActive(txn, ws, id, &r));
    if (r.serving == serving) return Status::Ok();
    r.serving = serving;
    r.serving_paused = false;
    r.updated = impl_->clock->Now();
    Impl::PutResource(txn, r);
    impl_->outbox.Queue(txn, ws, "serving.changed", [&] {
      return JsonText({{"id", r.id}, {"serving", serving}});
    });
    impl_->Audit(txn, actor, ws, serving ? "serve" : "unserve", r.type, r.id, r.name, 0,
                 true, "");
    return Status::Ok();
  };
  return call;
}

// A Status from the result of a call that answers only a Status.
Status StatusOf(const Result<NoValue>& r) { return r.ok() ? Status::Ok() : r.status(); }

}  // namespace

Status Engine::SetServing(const Actor& actor, std::string_view ws, std::string_view id,
                          bool serving) {
  return StatusOf(impl_->Run(ServingCall(impl_.get(), actor, ws, id, serving)));
}

void Engine::SetServing(const Actor& actor, std::string_view ws, std::string_view id,
                        bool serving, StatusCompletion done) {
  impl_->Submit<NoValue>(
      ServingCall(impl_.get(), actor, ws, id, serving),
      [done = std::move(done)](Result<NoValue> r) { done(StatusOf(r)); });
}

// ---- jobs -------------------------------------------------------------------------

namespace {

// Queues a job on an active resource.
WriteCall<Job> CreateJobCall(Engine::Impl* impl_, const Actor& actor_in,
                             std::string_view ws_in, std::string_view id_in) {
  WriteCall<Job> call{actor_in, std::string(ws_in), "job.create",
                      "",       std::string(id_in), nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in),
               resource_id = std::string(id_in)](WriteTxn& txn, Job* job_p) -> Status {
    Job& job = *job_p;
    ResourceRec r;
    TRASHD_RETURN_IF_ERROR(LoadActive(txn, ws, resource_id, &r));
    job = Job{};
    job.id = NewOpaqueId("job", impl_->clock->Now());
    job.workspace = ws;
    job.resource_id = r.id;
    job.created = job.updated = impl_->clock->Now();
    txn.Put(Table::kJobs, schema::JobKey(job.id), EncodeJob(job));
    txn.Put(Table::kJobsByResource, schema::JobByResourceKey{r.id, job.id}.Encode(), "");
    r.open_jobs++;
    Impl::PutResource(txn, r);
    impl_->Audit(txn, actor, ws, "job.create", r.type, r.id, r.name, 0, true, job.id);
    return Status::Ok();
  };
  return call;
}

}  // namespace

Result<Job> Engine::CreateJob(const Actor& actor, std::string_view ws,
                              std::string_view resource_id) {
  return impl_->Run(CreateJobCall(impl_.get(), actor, ws, resource_id));
}

void Engine::CreateJob(const Actor& actor, std::string_view ws,
                       std::string_view resource_id, Completion<Job> done) {
  impl_->Submit(CreateJobCall(impl_.get(), actor, ws, resource_id), std::move(done));
}

Result<Job> Engine::GetJob(std::string_view ws, std::string_view job_id) {
  auto txn = impl_->store->BeginRead();
  std::string_view v;
  Job j;
  if (!txn->Get(Table::kJobs, schema::JobKey(job_id), &v) || !DecodeJob(v, &j) ||
      j.workspace != ws) {
    return Impl::Missing(*txn, NotFound("no job " + std::string(job_id)));
  }
  return j;
}

namespace {

// Moves a job on: queued -> running -> finished, or cancelled.
WriteCall<NoValue> JobStateCall(Engine::Impl* impl_, const Actor& actor_in,
                                std::string_view ws_in, std::string_view job_in,
                                JobState state) {
  WriteCall<NoValue> call{actor_in, std::string(ws_in),  "job.update",
                          "job",    std::string(job_in), nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in),
               job_id = std::string(job_in), state](WriteTxn& txn, NoValue*) -> Status {
    std::string_view v;
    Job j;
    if (!txn.Get(Table::kJobs, schema::JobKey(job_id), &v) || !DecodeJob(v, &j) ||
        j.workspace != ws) {
      return NotFound("no job " + std::string(job_id));
    }
    auto open = [](JobState s) {
      return s == JobState::kQueued || s == JobState::kRunning;
    };
    if (!open(j.state)) {
      return Conflict("job " + j.id + " is " + JobStateName(j.state) +
                      " and cannot change");
    }
    if (state == JobState::kQueued)
      return InvalidArgument("a job cannot go back to queued");
    j.state = state;
    j.updated = impl_->clock->Now();
    if (state == JobState::kCancelled)
      j.reason = "cancelled by " + std::string(InterfaceName(actor.via));
    txn.Put(Table::kJobs, schema::JobKey(j.id), EncodeJob(j));
    if (!open(state)) {
      ResourceRec r;
      if (Impl::LoadResource(txn, j.resource_id, &r) && r.open_jobs > 0) {
        r.open_jobs--;
        Impl::PutResource(txn, r);
      }
    }
    impl_->Audit(txn, actor, ws, "job.update", "job", j.id, "", 0, true,
                 JobStateName(state));
    return Status::Ok();
  };
  return call;
}

}  // namespace

Status Engine::SetJobState(const Actor& actor, std::string_view ws,
                           std::string_view job_id, JobState state) {
  return StatusOf(impl_->Run(JobStateCall(impl_.get(), actor, ws, job_id, state)));
}

void Engine::SetJobState(const Actor& actor, std::string_view ws, std::string_view job_id,
                         JobState state, StatusCompletion done) {
  impl_->Submit<NoValue>(
      JobStateCall(impl_.get(), actor, ws, job_id, state),
      [done = std::move(done)](Result<NoValue> r) { done(StatusOf(r)); });
}

}  // namespace trashd
