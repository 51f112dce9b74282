// dataset: images and annotations of the workspace; all freed at purge.
#include "common/basic_type.h"

namespace trashd {

std::shared_ptr<ResourceType> MakeDatasetType() {
  TypeInfo info;
  info.name = "dataset";
  info.parent_types = {"workspace"};
  info.id_prefix = "ds";
  info.section = "datasets";
  info.asset_kinds = {"image", "annotation"};
  BasicBehaviour b;
  b.cancels_jobs = true;
  b.released_kinds = {"image", "annotation"};
  return std::make_shared<BasicType>(std::move(info), std::move(b));
}

}  // namespace trashd
