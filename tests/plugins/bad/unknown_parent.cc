// Its parent type exists nowhere: must be refused.
#include "simple_type.h"
TEST_PLUGIN("orphan", "galaxy", trashd::kPluginAbiMajor, trashd::kPluginAbiMinor,
            TRASHD_BUILD_FINGERPRINT)
