// "fragile": loads fine, but its on_trashed hook throws for a resource named "boom".
#include <stdexcept>

#include "simple_type.h"

namespace {
class FragileType final : public trashd::test_plugins::SimpleType {
 public:
  explicit FragileType(const trashd::PluginSettings&)
      : SimpleType("fragile", "workspace") {}
  trashd::Status OnTrashed(trashd::HostApi& host, const trashd::ResourceView& r,
                           bool) const override {
    host.QueueEvent("fragile.trashed", "{}");  // written, then rolled back
    if (r.name == "boom") throw std::runtime_error("fragile resource broke");
    return trashd::Status::Ok();
  }
};
}  // namespace
TRASHD_PLUGIN(FragileType, "fragile", "0.0.1", TRASHD_NO_SETTINGS)
