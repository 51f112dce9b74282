// The model type as a loadable plugin (libtrashd_model.so).
#include "trashd/plugin.h"

namespace trashd {
std::shared_ptr<ResourceType> MakeModelType();
namespace {
std::shared_ptr<ResourceType> Create(const PluginSettings&) { return MakeModelType(); }
}  // namespace
}  // namespace trashd

TRASHD_PLUGIN_FACTORY("model", TRASHD_VERSION, trashd::Create, TRASHD_NO_SETTINGS)
