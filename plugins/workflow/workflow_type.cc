// workflow: a pipeline definition of the workspace. Nothing travels with it.
#include "common/basic_type.h"

namespace trashd {

std::shared_ptr<ResourceType> MakeWorkflowType() {
  TypeInfo info;
  info.name = "workflow";
  info.parent_types = {"workspace"};
  info.id_prefix = "wf";
  info.section = "workflows";
  return std::make_shared<BasicType>(std::move(info), BasicBehaviour{});
}

}  // namespace trashd
