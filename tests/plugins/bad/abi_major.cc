// Built for a future plugin ABI major: must be refused.
#include "simple_type.h"
TEST_PLUGIN("abimajor", "workspace", trashd::kPluginAbiMajor + 1, 0,
            TRASHD_BUILD_FINGERPRINT)
