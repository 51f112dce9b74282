// The workflow type as a loadable plugin (libtrashd_workflow.so).
#include "trashd/plugin.h"

namespace trashd {
std::shared_ptr<ResourceType> MakeWorkflowType();
namespace {
std::shared_ptr<ResourceType> Create(const PluginSettings&) { return MakeWorkflowType(); }
}  // namespace
}  // namespace trashd

TRASHD_PLUGIN_FACTORY("workflow", TRASHD_VERSION, trashd::Create, TRASHD_NO_SETTINGS)
