#include "engine/host_impl.h"

#include "engine/json.h"

namespace trashd {

ResourceRec* HostImpl::Target(std::string_view id) {
  if (current_ && current_->id == id) return current_;
  if (!Engine::Impl::LoadResource(txn_, id, &scratch_) || scratch_.ws != ws_)
    return nullptr;
  return &scratch_;
}

void HostImpl::Save(ResourceRec* r) {
  if (r != current_) Engine::Impl::PutResource(txn_, *r);
}

bool HostImpl::Released(const std::string& id, std::string_view kind) const {
  return released_.count({id, std::string(kind)}) > 0 || released_.count({id, ""}) > 0;
}

std::optional<ResourceView> HostImpl::GetResource(std::string_view id) {
  if (current_ && current_->id == id) return Engine::Impl::View(*current_);
  ResourceRec& r = kept_.emplace_back();
  if (!Engine::Impl::LoadResource(txn_, id, &r) || r.ws != ws_) {
    kept_.pop_back();
    return std::nullopt;
  }
  return Engine::Impl::View(r);
}

std::vector<ResourceView> HostImpl::Children(std::string_view id, std::string_view type) {
  std::vector<ResourceView> out;
  std::vector<std::string> ids;
  txn_.ScanPrefix(Table::kChildren, schema::ChildrenPrefix(ws_, id, type),
                  [&](std::string_view k, auto) {
                    schema::ChildKey child;
                    if (schema::ChildKey::Decode(k, &child)) ids.emplace_back(child.id);
                    return true;
                  });
  for (const auto& child : ids) {
    if (auto v = GetResource(child)) out.push_back(*v);
  }
  return out;
}

int HostImpl::CancelJobs(std::string_view resource_id, std::string_view reason) {
  ResourceRec* r = Target(resource_id);
  if (!r || r->open_jobs == 0) return 0;
  std::vector<std::string> job_ids;
  txn_.ScanPrefix(Table::kJobsByResource, schema::JobsByResourcePrefix(r->id),
                  [&](std::string_view k, auto) {
                    schema::JobByResourceKey job;
                    if (schema::JobByResourceKey::Decode(k, &job))
                      job_ids.emplace_back(job.job_id);
                    return true;
                  });
  int n = 0;
  for (const auto& job_id : job_ids) {
    std::string_view v;
    Job j;
    if (!txn_.Get(Table::kJobs, schema::JobKey(job_id), &v) || !DecodeJob(v, &j))
      continue;
    if (j.state != JobState::kQueued && j.state != JobState::kRunning) continue;
    j.state = JobState::kCancelled;
    j.reason = reason;
    j.updated = impl_.clock->Now();
    txn_.Put(Table::kJobs, schema::JobKey(j.id), EncodeJob(j));
    impl_.outbox.Queue(txn_, ws_, "job.cancelled", [&] {
      return JsonText({{"job", j.id}, {"resource", r->id}, {"reason", reason}});
    });
    ++n;
  }
  r->open_jobs = 0;
  Save(r);
  cancelled_ += n;
  return n;
}

bool HostImpl::PauseServing(std::string_view resource_id) {
  ResourceRec* r = Target(resource_id);
  if (!r || !r->serving) return false;
  r->serving = false;
  r->serving_paused = true;
  Save(r);
  impl_.outbox.Queue(txn_, ws_, "serving.changed", [&] {
    return JsonText({{"id", r->id}, {"serving", false}, {"reason", "moved to trash"}});
  });
  return true;
}

bool HostImpl::ResumeServing(std::string_view resource_id) {
  ResourceRec* r = Target(resource_id);
  if (!r || !r->serving_paused) return false;
  r->serving = true;
  r->serving_paused = false;
  Save(r);
  impl_.outbox.Queue(txn_, ws_, "serving.changed", [&] {
    return JsonText({{"id", r->id}, {"serving", true}, {"reason", "restored"}});
  });
  return true;
}

void HostImpl::ReleaseAssets(std::string_view resource_id, std::string_view kind) {
  released_.emplace(std::string(resource_id), std::string(kind));
}

void HostImpl::QueueEvent(std::string_view type, std::string_view payload) {
  impl_.outbox.Queue(txn_, ws_, type, [payload] { return std::string(payload); });
}

void HostImpl::Log(LogLevel level, std::string_view message) {
  if (impl_.options.log) impl_.options.log(level, message);
}

}  // namespace trashd
