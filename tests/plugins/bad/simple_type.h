// A minimal resource type for the test plugins, and a macro that exports it with a
// hand-made PluginInfo, so each test plugin can get one part of the handshake wrong.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "trashd/plugin.h"

namespace trashd::test_plugins {

class SimpleType : public ResourceType {
 public:
  SimpleType(std::string name, std::string parent) {
    info_.name = std::move(name);
    info_.parent_types = {std::move(parent)};
    info_.id_prefix = info_.name.substr(0, 3);
    info_.section = info_.name + "s";
    info_.asset_kinds = {"file"};
  }
  const TypeInfo& Info() const override { return info_; }
  bool ReleasesAtPurge(const ResourceView&, std::string_view) const override {
    return true;
  }
  Status OnTrashed(HostApi&, const ResourceView&, bool) const override {
    return Status::Ok();
  }
  Status OnRestored(HostApi&, const ResourceView&) const override { return Status::Ok(); }
  Status OnPurged(HostApi& host, const ResourceView& r) const override {
    host.ReleaseAssets(r.id, "");
    return Status::Ok();
  }

 protected:
  TypeInfo info_;
};

}  // namespace trashd::test_plugins

// Exports a SimpleType named `type_name` with the given handshake values.
#define TEST_PLUGIN(type_name, parent, abi_major, abi_minor, fingerprint)               \
  namespace {                                                                           \
  const ::trashd::PluginInfo* TestInfo() {                                              \
    static const ::trashd::PluginInfo info = {                                          \
        abi_major, abi_minor, type_name, "0.0.1", fingerprint, nullptr, 0};             \
    return &info;                                                                       \
  }                                                                                     \
  std::shared_ptr<::trashd::ResourceType> TestCreate(const ::trashd::PluginSettings&) { \
    return std::make_shared<::trashd::test_plugins::SimpleType>(type_name, parent);     \
  }                                                                                     \
  }                                                                                     \
  TRASHD_PLUGIN_EXPORT(TestInfo, TestCreate)
