// Claims another compiler and Boost: must be refused.
#include "simple_type.h"
TEST_PLUGIN("foreign", "workspace", trashd::kPluginAbiMajor, trashd::kPluginAbiMinor,
            "clang-99 boost-999999 cxx11abi-0")
