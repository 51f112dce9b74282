// The project type as a loadable plugin (libtrashd_project.so).
#include "trashd/plugin.h"

namespace trashd {
std::shared_ptr<ResourceType> MakeProjectType();
namespace {
std::shared_ptr<ResourceType> Create(const PluginSettings&) { return MakeProjectType(); }
}  // namespace
}  // namespace trashd

TRASHD_PLUGIN_FACTORY("project", TRASHD_VERSION, trashd::Create, TRASHD_NO_SETTINGS)
