// Its factory throws: must be refused with the exception's message.
#include <stdexcept>

#include "simple_type.h"

namespace {
std::shared_ptr<trashd::ResourceType> Create(const trashd::PluginSettings&) {
  throw std::runtime_error("cannot reach the license server");
}
}  // namespace
TRASHD_PLUGIN_FACTORY("throwing", "0.0.1", Create, TRASHD_NO_SETTINGS)
