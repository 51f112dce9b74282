#include "builtin.h"

#include <memory>

namespace trashd {

std::shared_ptr<ResourceType> MakeProjectType();
std::shared_ptr<ResourceType> MakeVersionType();
std::shared_ptr<ResourceType> MakeModelType();
std::shared_ptr<ResourceType> MakeDatasetType();
std::shared_ptr<ResourceType> MakeWorkflowType();

Status RegisterBuiltinTypes(TypeRegistry& registry) {
  for (auto make : {MakeProjectType, MakeVersionType, MakeModelType, MakeDatasetType,
                    MakeWorkflowType}) {
    TRASHD_RETURN_IF_ERROR(registry.Register(make()));
  }
  return Status::Ok();
}

}  // namespace trashd
