// The dataset type as a loadable plugin (libtrashd_dataset.so).
#include "trashd/plugin.h"

namespace trashd {
std::shared_ptr<ResourceType> MakeDatasetType();
namespace {
std::shared_ptr<ResourceType> Create(const PluginSettings&) { return MakeDatasetType(); }
}  // namespace
}  // namespace trashd

TRASHD_PLUGIN_FACTORY("dataset", TRASHD_VERSION, trashd::Create, TRASHD_NO_SETTINGS)
