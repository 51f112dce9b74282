// BasicType: a ResourceType whose hooks are the common ones, chosen by flags — cancel
// the resource's in-flight jobs and pause its serving when trashed, resume serving on
// restore, release assets at purge. The built-in types are each one of these.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "trashd/resource_type.h"

namespace trashd {

struct BasicBehaviour {
  bool cancels_jobs = false;  // T4: in-flight jobs of the resource are cancelled
  bool pauses_serving =
      false;  // T4/R5: stops serving in the Trash, serves again on restore
  // Kinds released at purge; "image" only when the item was deleted with
  // cleanupDeleteImages (P2), when listed in images_on_cleanup_only.
  std::vector<std::string> released_kinds;
  bool images_on_cleanup_only = false;
};

class BasicType : public ResourceType {
 public:
  BasicType(TypeInfo info, BasicBehaviour behaviour)
      : info_(std::move(info)), behaviour_(std::move(behaviour)) {}

  const TypeInfo& Info() const override { return info_; }

  bool ReleasesAtPurge(const ResourceView& r, std::string_view kind) const override {
    bool listed = false;
    for (const auto& k : behaviour_.released_kinds) listed = listed || k == kind;
    if (!listed) return false;
    if (kind == "image" && behaviour_.images_on_cleanup_only)
      return r.cleanup_delete_images;
    return true;
  }

  Status OnTrashed(HostApi& host, const ResourceView& r, bool cascaded) const override {
    (void)cascaded;
    if (behaviour_.cancels_jobs) host.CancelJobs(r.id, "moved to trash");
    if (behaviour_.pauses_serving && r.serving) host.PauseServing(r.id);
    return Status::Ok();
  }

  Status OnRestored(HostApi& host, const ResourceView& r) const override {
    if (behaviour_.pauses_serving) host.ResumeServing(r.id);
    return Status::Ok();
  }

  Status OnPurged(HostApi& host, const ResourceView& r) const override {
    for (const auto& kind : info_.asset_kinds) {
      if (ReleasesAtPurge(r, kind)) host.ReleaseAssets(r.id, kind);
    }
    return Status::Ok();
  }

 private:
  TypeInfo info_;
  BasicBehaviour behaviour_;
};

}  // namespace trashd
