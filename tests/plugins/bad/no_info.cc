// Exports a factory but no info: must be refused before anything is created.
#include "simple_type.h"

namespace {
std::shared_ptr<trashd::ResourceType> Create(const trashd::PluginSettings&) {
  return std::make_shared<trashd::test_plugins::SimpleType>("noinfo", "workspace");
}
}  // namespace
BOOST_DLL_ALIAS(Create, trashd_plugin_create)
