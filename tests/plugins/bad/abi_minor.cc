// Needs a newer ABI minor than the host has: must be refused.
#include "simple_type.h"
TEST_PLUGIN("abiminor", "workspace", trashd::kPluginAbiMajor, trashd::kPluginAbiMinor + 1,
            TRASHD_BUILD_FINGERPRINT)
