// notebook: a third party's resource type. A notebook lives in a workspace, holds
// pages (an asset kind), tells the outside world when it is trashed, and frees its pages
// when purged. It includes nothing but the trashd SDK.
#include <string>

#include "trashd/plugin.h"

namespace {

const trashd::SettingSpec kSettings[] = {
    {"max_pages", "100", "how many pages a notebook may hold"},
};

class NotebookType final : public trashd::ResourceType {
 public:
  explicit NotebookType(const trashd::PluginSettings& settings)
      : max_pages_(std::stoi(settings.at("max_pages"))) {
    info_.name = "notebook";
    info_.parent_types = {"workspace"};
    info_.id_prefix = "nb";
    info_.section = "notebooks";
    info_.asset_kinds = {"page"};
  }

  const trashd::TypeInfo& Info() const override { return info_; }

  bool ReleasesAtPurge(const trashd::ResourceView&,
                       std::string_view kind) const override {
    return kind == "page";
  }

  trashd::Status OnTrashed(trashd::HostApi& host, const trashd::ResourceView& r,
                           bool cascaded) const override {
    host.QueueEvent("notebook.trashed",
                    "{\"id\":\"" + std::string(r.id) +
                        "\",\"max_pages\":" + std::to_string(max_pages_) + "}");
    host.Log(trashd::LogLevel::kInfo,
             "notebook " + std::string(r.id) + " moved to trash");
    (void)cascaded;
    return trashd::Status::Ok();
  }

  trashd::Status OnRestored(trashd::HostApi& host,
                            const trashd::ResourceView& r) const override {
    host.QueueEvent("notebook.restored", "{\"id\":\"" + std::string(r.id) + "\"}");
    return trashd::Status::Ok();
  }

  trashd::Status OnPurged(trashd::HostApi& host,
                          const trashd::ResourceView& r) const override {
    host.ReleaseAssets(r.id, "page");
    return trashd::Status::Ok();
  }

 private:
  trashd::TypeInfo info_;
  int max_pages_;
};

}  // namespace

TRASHD_PLUGIN(NotebookType, "notebook", "1.0.0", kSettings, 1)
