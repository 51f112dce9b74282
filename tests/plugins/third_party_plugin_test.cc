// A third party's plugin, built outside the tree against the installed SDK (the
// sdk_builds_third_party_plugin test builds it first), put through the whole lifecycle.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "engine/engine.h"
#include "plugin/loader.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {

TEST_CASE("Third-party notebook plugin: delete, list, restore, purge and sweep",
          "[plugins][third-party]") {
  const char* path = std::getenv("TRASHD_NOTEBOOK_PLUGIN");
  REQUIRE(path != nullptr);
  REQUIRE(std::filesystem::exists(path));
  std::vector<std::string> logged;
  TestEnvOptions options;
  options.extra_types = [&](TypeRegistry& types) {
    auto loaded = LoadPlugin(path, {{"max_pages", "7"}}, types);
    if (loaded.ok()) {
      CHECK(loaded->type_name == "notebook");
      CHECK(loaded->version == "1.0.0");
    }
    return loaded.status();
  };
  TestEnv env(options);
  env.MakeWorkspace("acme");
  Resource lab = env.Create("acme", "notebook", "", "lab-notes");
  Resource ideas = env.Create("acme", "notebook", "", "ideas");
  auto page = env->PutAsset(Alice(), "acme", lab.id, "page", "page one of the lab notes");
  REQUIRE_OK(page);
  REQUIRE_OK(env->PutAsset(Alice(), "acme", ideas.id, "page", "an idea"));
  CHECK(lab.id.rfind("nb_", 0) == 0);

  // Delete: in the Trash under its own section, its hook's event queued.
  REQUIRE_OK(env->Trash(Alice(), "acme", lab.id));
  REQUIRE_CODE(env->GetResource("acme", lab.id), Code::kNotFound);
  auto listed = env->ListTrash("acme", TrashQuery{"notebook", 100, ""});
  REQUIRE_OK(listed);
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0].section == "notebooks");
  CHECK(listed->items[0].size == page->bytes);
  bool event = false;
  for (const auto& e : env->PendingEvents(0, 1000)) {
    event |= e.type == "notebook.trashed" &&
             e.payload.find("\"max_pages\":7") != std::string::npos;
  }
  CHECK(event);

  // Restore: back, intact.
  REQUIRE_OK(env->Restore(Alice(), "acme", lab.id));
  REQUIRE_OK(env->GetResource("acme", lab.id));
  auto content = env->ReadAsset("acme", page->hash);
  REQUIRE_OK(content);
  CHECK(content.value() == "page one of the lab notes");

  // Purge: the page's file goes.
  REQUIRE_OK(env->Trash(Alice(), "acme", lab.id));
  auto purged = env->Purge(Actor::Admin(), "acme", lab.id);
  REQUIRE_OK(purged);
  CHECK(purged->bytes_freed == page->bytes);
  CHECK_FALSE(std::filesystem::exists(env->BlobPath("acme", page->hash)));

  // Sweep: gone after the retention window, not before.
  REQUIRE_OK(env->Trash(Alice(), "acme", ideas.id));
  auto early = env->SweepOnce(env.clock().Now() + 29 * kMsPerDay, 100, false);
  REQUIRE_OK(early);
  CHECK(early->items == 0);
  auto swept = env->SweepOnce(env.clock().Now() + 31 * kMsPerDay, 100, false);
  REQUIRE_OK(swept);
  CHECK(swept->items == 1);
  CHECK(env->GetUsage("acme")->total() == 0);
  RequireFsckClean(env);
}

}  // namespace trashd::testing
