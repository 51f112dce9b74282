// Exports its info but no factory: must be refused.
#include "simple_type.h"

namespace {
const trashd::PluginInfo* Info() {
  static const trashd::PluginInfo info = {trashd::kPluginAbiMajor,
                                          trashd::kPluginAbiMinor,
                                          "nofactory",
                                          "0.0.1",
                                          TRASHD_BUILD_FINGERPRINT,
                                          nullptr,
                                          0};
  return &info;
}
}  // namespace
BOOST_DLL_ALIAS(Info, trashd_plugin_info)
