// model: trained weights under a project, or under the version it was trained from.
// Its url is unique within the project. It stops serving in the Trash and serves again
// when restored (T4, R5); weights, training history and exports are freed at purge.
#include "common/basic_type.h"

namespace trashd {

std::shared_ptr<ResourceType> MakeModelType() {
  TypeInfo info;
  info.name = "model";
  info.parent_types = {"project", "version"};
  info.id_prefix = "m";
  info.section = "models";
  info.slug_scope_type = "project";
  info.asset_kinds = {"weights", "history", "export"};
  BasicBehaviour b;
  b.cancels_jobs = true;
  b.pauses_serving = true;
  b.released_kinds = {"weights", "history", "export"};
  return std::make_shared<BasicType>(std::move(info), std::move(b));
}

}  // namespace trashd
