// project: the top of a computer-vision project's tree. Only its owner may delete it
// (T6); its versions and models travel with it; its images stay in the workspace's
// asset library at purge unless it was deleted with cleanupDeleteImages (P2).
#include "common/basic_type.h"

namespace trashd {

std::shared_ptr<ResourceType> MakeProjectType() {
  TypeInfo info;
  info.name = "project";
  info.parent_types = {"workspace"};
  info.id_prefix = "p";
  info.section = "projects";
  info.cascade_children = {"version", "model"};
  info.owner_only_delete = true;
  info.asset_kinds = {"image"};
  BasicBehaviour b;
  b.cancels_jobs = true;
  b.released_kinds = {"image"};
  b.images_on_cleanup_only = true;
  return std::make_shared<BasicType>(std::move(info), std::move(b));
}

}  // namespace trashd
