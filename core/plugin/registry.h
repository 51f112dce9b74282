// TypeRegistry: the resource types the engine knows, by name.
//
// Types are registered explicitly at start-up (from code or from plugins), parents
// before children: a name already taken, or a parent type not registered yet, is
// refused. Freeze() checks what types say of each other (cascade children must accept
// the type as a parent; a cascade child that is not loaded is ignored). After Freeze()
// the registry is read-only and safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "trashd/resource_type.h"
#include "trashd/status.h"

namespace trashd {

class TypeRegistry {
 public:
  // `owner` keeps alive whatever the type's code lives in (a loaded library); it is
  // destroyed after the type.
  Status Register(std::shared_ptr<ResourceType> type,
                  std::shared_ptr<void> owner = nullptr);
  // Checks parents and cascade children name known types; then the registry is read-only.
  Status Freeze();

  const ResourceType* Find(std::string_view name) const;
  // Whether any registered type names `name` as a parent (after Freeze): a resource of
  // a type nothing can be a child of has no children to look for.
  bool MayHaveChildren(std::string_view name) const;
  bool MayHaveChildren(const ResourceType* type) const {
    for (const auto* t : with_children_) {
      if (t == type) return true;
    }
    return false;
  }
  // A reference that keeps the type (and the library its code lives in) alive even
  // after the registry is gone; empty if unknown.
  std::shared_ptr<const ResourceType> Share(std::string_view name) const;
  // Registration order.
  const std::vector<const ResourceType*>& All() const { return order_; }
  bool frozen() const { return frozen_; }

  // The permissions and scopes that exist: view_trash, purge_trash, trash_<T>,
  // restore_<T>; <T>:read, <T>:update.
  std::vector<std::string> Permissions() const;
  bool IsPermission(std::string_view p) const;
  bool IsScope(std::string_view s) const;

  ~TypeRegistry();

 private:
  struct Entry {
    std::shared_ptr<void> owner;  // declared first: destroyed after `type`
    std::shared_ptr<ResourceType> type;
  };
  std::vector<Entry> entries_;
  std::vector<const ResourceType*> order_;
  std::unordered_map<std::string, const ResourceType*> by_name_;
  std::vector<std::string> parents_;                // names some type has as a parent
  std::vector<const ResourceType*> with_children_;  // the registered ones among them
  bool frozen_ = false;
};

}  // namespace trashd
