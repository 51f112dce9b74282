// The five built-in resource types of SPEC §1: project, version, model, dataset,
// workflow. Registered from code until they become loadable plugins.
#pragma once

#include "plugin/registry.h"

namespace trashd {

Status RegisterBuiltinTypes(TypeRegistry& registry);

}  // namespace trashd
