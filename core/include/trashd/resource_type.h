// ResourceType: what a resource type (built in or a third party's plugin) tells the
// engine, and the narrow HostApi its hooks act through.
//
// The engine calls a type's hooks inside its own write transaction: everything a hook
// does through HostApi commits or rolls back with the operation. A hook that returns a
// non-OK Status (or throws: the engine guards every call) aborts the whole operation
// and leaves the store unchanged. Hooks never see the store, sockets or threads; effects
// outside the store go through QueueEvent. A hook may be called more than once for one
// operation (the store may run its transaction again, and on PostgreSQL runs parts of
// it ahead to gather their reads): only what the last call did through HostApi
// counts, so a hook keeps no state of its own from one call to the next.
//
// Thread-safety: a ResourceType is immutable after construction and its methods may be
// called from several threads at once. A HostApi is valid only during the hook call it
// was passed to. This header is part of the plugin SDK: standard library only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trashd/status.h"

namespace trashd {

// How a type's ids look to clients.
enum class IdForm {
  kOpaque,             // "<prefix>_<26 chars>", unique in the store
  kNumberedPerParent,  // "1", "2", ... per parent; clients pass the parent id with it
};

struct TypeInfo {
  std::string name;  // "project": also makes trash_<name>, <name>:update
  std::vector<std::string> parent_types;  // "workspace" for top level
  std::string id_prefix;                  // "p" -> ids "p_..." (kOpaque only)
  IdForm id_form = IdForm::kOpaque;
  std::string section;  // "projects": key in GET /:ws/trash sections
  std::vector<std::string> cascade_children;  // child types that travel with it
  // Slugs are unique among active resources of this type under the nearest ancestor
  // of this type; empty means the parent (or the workspace for top-level types).
  std::string slug_scope_type;
  bool owner_only_delete = false;        // T6: only the resource's owner may delete it
  std::vector<std::string> asset_kinds;  // kinds of assets it may hold ("image", ...)
};

// A resource as a hook sees it. The text fields view the engine's own record: they are
// valid until the hook returns (copy what you keep). Views from HostApi::GetResource
// and Children are valid until the operation's hook calls are over.
struct ResourceView {
  std::string_view id;
  std::string_view type;
  std::string_view workspace;
  std::string_view slug;
  std::string_view name;
  std::string_view parent_id;  // empty for top level
  std::string_view owner_id;
  std::string_view attributes;  // the type's own attributes, a JSON object text
  bool trashed = false;
  bool cleanup_delete_images = false;
  bool serving = false;
  uint64_t own_bytes = 0;  // bytes of the assets it references, each counted once
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// What a hook may do. Every call acts in the transaction of the current operation.
class HostApi {
 public:
  virtual ~HostApi() = default;
  virtual std::optional<ResourceView> GetResource(std::string_view id) = 0;
  // Children of `id` of the given type (every type when empty), active or trashed.
  virtual std::vector<ResourceView> Children(std::string_view id,
                                             std::string_view type) = 0;
  // Cancels the queued and running jobs of one resource; queues a job.cancelled event
  // for each. Returns how many were cancelled.
  virtual int CancelJobs(std::string_view resource_id, std::string_view reason) = 0;
  // Stops a serving resource and remembers that the trash stopped it. Returns whether
  // it was serving. Queues a serving.changed event.
  virtual bool PauseServing(std::string_view resource_id) = 0;
  // Serves again a resource that PauseServing stopped; a no-op otherwise.
  virtual bool ResumeServing(std::string_view resource_id) = 0;
  // Frees the resource's references to assets of `kind` (empty: every kind) at purge.
  // References not released stay in the workspace's asset library.
  virtual void ReleaseAssets(std::string_view resource_id, std::string_view kind) = 0;
  // Queues an event for webhook delivery; `payload` is a JSON object text.
  virtual void QueueEvent(std::string_view type, std::string_view payload) = 0;
  virtual void Log(LogLevel level, std::string_view message) = 0;
};

class ResourceType {
 public:
  virtual ~ResourceType() = default;
  virtual const TypeInfo& Info() const = 0;

  // Checks the attributes given at creation (a JSON object text). Default: any.
  virtual Status ValidateAttributes(std::string_view attributes) const {
    (void)attributes;
    return Status::Ok();
  }
  // Whether purging `resource` frees its assets of `kind`. The engine uses this to
  // report what a purge would free (Q3) and at purge; OnPurged must release the same.
  virtual bool ReleasesAtPurge(const ResourceView& resource,
                               std::string_view kind) const = 0;

  // Called for the deleted resource (cascaded = false) and each active descendant
  // that travels with it (cascaded = true).
  virtual Status OnTrashed(HostApi& host, const ResourceView& resource,
                           bool cascaded) const = 0;
  // Called for the restored resource and each descendant restored with it.
  virtual Status OnRestored(HostApi& host, const ResourceView& resource) const = 0;
  // Called for every resource of a purged subtree, before it is removed.
  virtual Status OnPurged(HostApi& host, const ResourceView& resource) const = 0;
};

}  // namespace trashd
