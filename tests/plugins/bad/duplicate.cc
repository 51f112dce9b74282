// A second "project": must be refused, the built-in one kept.
#include "simple_type.h"
TEST_PLUGIN("project", "workspace", trashd::kPluginAbiMajor, trashd::kPluginAbiMinor,
            TRASHD_BUILD_FINGERPRINT)
