// "shelf": declares a required setting "label" and an optional "capacity"; its section
// shows the label it was given, so a test can see the settings arrive.
#include "simple_type.h"

namespace {
const trashd::SettingSpec kSettings[] = {
    {"label", nullptr, "what the shelves are called"},
    {"capacity", "10", "how many things a shelf holds"},
};
class ShelfType final : public trashd::test_plugins::SimpleType {
 public:
  explicit ShelfType(const trashd::PluginSettings& s) : SimpleType("shelf", "workspace") {
    info_.section = "shelf_" + s.at("label") + "_" + s.at("capacity");
  }
};
}  // namespace
TRASHD_PLUGIN(ShelfType, "shelf", "0.0.1", kSettings, 2)
