#include "plugin/registry.h"

#include <algorithm>

namespace trashd {

TypeRegistry::~TypeRegistry() {
  // Objects first, then whatever keeps their code loaded.
  order_.clear();
  by_name_.clear();
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) it->type.reset();
  entries_.clear();
}

Status TypeRegistry::Register(std::shared_ptr<ResourceType> type,
                              std::shared_ptr<void> owner) {
  if (frozen_) return Internal("types can no longer be registered once the engine runs");
  if (!type) return InvalidArgument("no type given");
  const TypeInfo& info = type->Info();
  if (info.name.empty()) return InvalidArgument("a type needs a name");
  if (by_name_.count(info.name)) {
    return Conflict("type \"" + info.name + "\" is already registered");
  }
  if (info.parent_types.empty()) {
    return InvalidArgument("type \"" + info.name + "\" names no parent type");
  }
  if (info.section.empty()) {
    return InvalidArgument("type \"" + info.name + "\" names no section");
  }
  // Parents register first (plugins load in the order they are enabled).
  for (const auto& p : info.parent_types) {
    if (p != "workspace" && !Find(p)) {
      return InvalidArgument("type \"" + info.name +
                             "\" names an unknown parent type \"" + p +
                             "\" (parent types must be loaded first)");
    }
    if (p == "workspace" && info.id_form == IdForm::kNumberedPerParent) {
      return InvalidArgument(
          "type \"" + info.name +
          "\" is numbered per parent, so its parent cannot be the workspace");
    }
  }
  if (info.id_form == IdForm::kOpaque && info.id_prefix.empty()) {
    return InvalidArgument("type \"" + info.name + "\" needs an id prefix");
  }
  for (const auto* other : order_) {
    if (other->Info().section == info.section) {
      return Conflict("section \"" + info.section + "\" of type \"" + info.name +
                      "\" is already used by type \"" + other->Info().name + "\"");
    }
    if (info.id_form == IdForm::kOpaque && other->Info().id_form == IdForm::kOpaque &&
        other->Info().id_prefix == info.id_prefix) {
      return Conflict("id prefix \"" + info.id_prefix + "\" of type \"" + info.name +
                      "\" is already used by type \"" + other->Info().name + "\"");
    }
  }
  by_name_.emplace(info.name, type.get());
  order_.push_back(type.get());
  entries_.push_back(Entry{std::move(owner), std::move(type)});
  return Status::Ok();
}

Status TypeRegistry::Freeze() {
  for (const auto* t : order_) {
    const TypeInfo& info = t->Info();
    for (const auto& c : info.cascade_children) {
      auto it = by_name_.find(c);
      if (it == by_name_.end()) continue;  // not loaded here, so none can exist
      const auto& parents = it->second->Info().parent_types;
      if (std::find(parents.begin(), parents.end(), info.name) == parents.end()) {
        return InvalidArgument("type \"" + info.name + "\" cascades to \"" + c +
                               "\", which cannot be its child");
      }
    }
    if (!info.slug_scope_type.empty() && !by_name_.count(info.slug_scope_type)) {
      return InvalidArgument("type \"" + info.name +
                             "\" scopes its slugs to an unknown type \"" +
                             info.slug_scope_type + "\"");
    }
  }
  for (const auto* t : order_) {
    for (const auto& p : t->Info().parent_types) {
      if (std::find(parents_.begin(), parents_.end(), p) == parents_.end())
        parents_.push_back(p);
    }
  }
  for (const auto* t : order_) {
    if (MayHaveChildren(t->Info().name)) with_children_.push_back(t);
  }
  frozen_ = true;
  return Status::Ok();
}

const ResourceType* TypeRegistry::Find(std::string_view name) const {
  // A handful of types: comparing names beats hashing one.
  for (const auto* t : order_) {
    if (t->Info().name == name) return t;
  }
  return nullptr;
}

bool TypeRegistry::MayHaveChildren(std::string_view name) const {
  return std::find(parents_.begin(), parents_.end(), name) != parents_.end();
}

std::shared_ptr<const ResourceType> TypeRegistry::Share(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.type->Info().name == name) return e.type;
  }
  return nullptr;
}

std::vector<std::string> TypeRegistry::Permissions() const {
  std::vector<std::string> out{"view_trash", "purge_trash"};
  for (const auto* t : order_) {
    out.push_back("trash_" + t->Info().name);
    out.push_back("restore_" + t->Info().name);
  }
  return out;
}

bool TypeRegistry::IsPermission(std::string_view p) const {
  auto all = Permissions();
  return std::find(all.begin(), all.end(), p) != all.end();
}

bool TypeRegistry::IsScope(std::string_view s) const {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view what = s.substr(colon + 1);
  return (what == "read" || what == "update") && Find(s.substr(0, colon)) != nullptr;
}

}  // namespace trashd
