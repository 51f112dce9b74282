// version: a numbered dataset version of a project ("3"); the models trained from it
// travel with it. Its exports are freed at purge.
#include "common/basic_type.h"

namespace trashd {

std::shared_ptr<ResourceType> MakeVersionType() {
  TypeInfo info;
  info.name = "version";
  info.parent_types = {"project"};
  info.id_form = IdForm::kNumberedPerParent;
  info.section = "versions";
  info.cascade_children = {"model"};
  info.asset_kinds = {"export"};
  BasicBehaviour b;
  b.cancels_jobs = true;
  b.released_kinds = {"export"};
  return std::make_shared<BasicType>(std::move(info), std::move(b));
}

}  // namespace trashd
