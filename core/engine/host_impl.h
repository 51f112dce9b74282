// HostImpl: the HostApi a hook acts through, bound to one write transaction.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <utility>

#include "engine/engine_impl.h"

namespace trashd {

class HostImpl final : public HostApi {
 public:
  HostImpl(Engine::Impl& impl, WriteTxn& txn, std::string ws)
      : impl_(impl), txn_(txn), ws_(std::move(ws)) {}

  // The resource whose hook runs next. Changes to it land in *r, which the caller
  // writes once after the hook; other resources are written at once.
  void SetCurrent(ResourceRec* r) { current_ = r; }
  // Whether a hook released (resource, kind) at purge.
  bool Released(const std::string& id, std::string_view kind) const;
  int cancelled_jobs() const { return cancelled_; }

  std::optional<ResourceView> GetResource(std::string_view id) override;
  std::vector<ResourceView> Children(std::string_view id, std::string_view type) override;
  int CancelJobs(std::string_view resource_id, std::string_view reason) override;
  bool PauseServing(std::string_view resource_id) override;
  bool ResumeServing(std::string_view resource_id) override;
  void ReleaseAssets(std::string_view resource_id, std::string_view kind) override;
  void QueueEvent(std::string_view type, std::string_view payload) override;
  void Log(LogLevel level, std::string_view message) override;

 private:
  // The record to change: the current one, or one loaded into scratch_ (null if it
  // is not a resource of this workspace).
  ResourceRec* Target(std::string_view id);
  void Save(ResourceRec* r);

  Engine::Impl& impl_;
  WriteTxn& txn_;
  std::string ws_;
  ResourceRec* current_ = nullptr;
  std::set<std::pair<std::string, std::string>> released_;
  // Records whose views GetResource and Children handed out: they stay put (a deque
  // never moves its elements) until this HostImpl is gone.
  std::deque<ResourceRec> kept_;
  ResourceRec scratch_;  // reused: a hook call on the current resource builds nothing
  int cancelled_ = 0;
};

// Calls a plugin hook, turning a failure or an exception into an Internal status that
// names the type and the hook, so the operation aborts with nothing changed.
template <typename F>
Status GuardedHook(std::string_view type, std::string_view hook, F&& call) {
  try {
    Status s = call();
    if (s.ok()) return s;
    return Internal("the " + std::string(type) + " type's " + std::string(hook) +
                    " hook failed: " + s.message());
  } catch (const std::exception& e) {
    return Internal("the " + std::string(type) + " type's " + std::string(hook) +
                    " hook threw: " + e.what());
  } catch (...) {
    return Internal("the " + std::string(type) + " type's " + std::string(hook) +
                    " hook threw an unknown exception");
  }
}

}  // namespace trashd
