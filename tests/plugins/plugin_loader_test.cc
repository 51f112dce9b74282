// SPEC §6: the built-ins load as plugins; every kind of broken plugin is refused with a
// message naming its file and the reason while the others load; a hook that throws
// fails only its own operation; types outlive the registry safely.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/engine.h"
#include "plugin/loader.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

std::string BadPlugin(const std::string& name) {
  return std::string(TRASHD_BAD_PLUGIN_DIR) + "/libtrashd_" + name + ".so";
}

// Loads the five built-ins and then `extra`; returns the report.
PluginLoadReport LoadWith(TypeRegistry& types, const std::string& extra,
                          PluginSettings settings = {}) {
  PluginConfig config;
  config.dir = TRASHD_TEST_PLUGIN_DIR;
  config.enable = BuiltinPluginNames();
  config.enable.push_back(extra);
  if (!settings.empty()) config.settings[extra] = settings;
  return LoadPlugins(config, types);
}

void RequireRefused(const std::string& plugin, const std::string& reason) {
  TypeRegistry types;
  PluginLoadReport report = LoadWith(types, BadPlugin(plugin));
  CAPTURE(plugin);
  REQUIRE(report.loaded.size() == 5);  // the others load
  REQUIRE(report.refused.size() == 1);
  const std::string& message = report.refused[0].reason;
  CAPTURE(message);
  CHECK(report.refused[0].file == BadPlugin(plugin));
  CHECK(message.find(BadPlugin(plugin)) != std::string::npos);
  CHECK(message.find(reason) != std::string::npos);
  CHECK(types.All().size() == 5);
  REQUIRE(types.Freeze().ok());
}

}  // namespace

TEST_CASE("Plugins: the five built-in types load, each from its own library",
          "[plugins]") {
  TypeRegistry types;
  PluginConfig config;
  config.dir = TRASHD_TEST_PLUGIN_DIR;
  config.enable = BuiltinPluginNames();
  PluginLoadReport report = LoadPlugins(config, types);
  REQUIRE(report.refused.empty());
  REQUIRE(report.loaded.size() == 5);
  for (const auto& p : report.loaded) {
    CHECK(p.file == PluginPath(TRASHD_TEST_PLUGIN_DIR, p.type_name));
    CHECK_FALSE(p.version.empty());
  }
  REQUIRE(types.Freeze().ok());
  CHECK(types.Find("version")->Info().id_form == IdForm::kNumberedPerParent);
  CHECK(types.Find("model")->Info().slug_scope_type == "project");
  CHECK(types.Find("project")->Info().cascade_children ==
        std::vector<std::string>{"version", "model"});
}

TEST_CASE("Plugins: each broken plugin is refused with its file and reason",
          "[plugins]") {
  SECTION("ABI major mismatch") {
    RequireRefused("abimajor", "built for plugin ABI 2.x");
  }
  SECTION("newer ABI minor") { RequireRefused("abiminor", "newer than this trashd's"); }
  SECTION("build fingerprint mismatch") {
    RequireRefused("foreign", "built with \"clang-99 boost-999999 cxx11abi-0\"");
  }
  SECTION("missing info symbol") {
    RequireRefused("noinfo", "exports no trashd_plugin_info");
  }
  SECTION("missing factory") {
    RequireRefused("nofactory", "exports no trashd_plugin_create");
  }
  SECTION("duplicate type name") {
    RequireRefused("duplicate", "type \"project\" is already registered");
  }
  SECTION("unknown parent type") {
    RequireRefused("orphan", "unknown parent type \"galaxy\"");
  }
  SECTION("a factory that throws") {
    RequireRefused("throwing", "factory threw: cannot reach the license server");
  }
  SECTION("a file that is not a shared library") {
    RequireRefused("not_a_library", "not a loadable shared library");
  }
  SECTION("a file that does not exist") {
    RequireRefused("missing", "not a loadable shared library");
  }
}

TEST_CASE("Plugins: settings are checked against what the plugin declares", "[plugins]") {
  SECTION("declared settings and defaults reach the plugin") {
    TypeRegistry types;
    PluginLoadReport report = LoadWith(types, BadPlugin("shelf"), {{"label", "oak"}});
    REQUIRE(report.refused.empty());
    CHECK(types.Find("shelf")->Info().section == "shelf_oak_10");
  }
  SECTION("an unknown key is refused by name") {
    TypeRegistry types;
    PluginLoadReport report =
        LoadWith(types, BadPlugin("shelf"), {{"label", "oak"}, {"colour", "red"}});
    REQUIRE(report.refused.size() == 1);
    CHECK(report.refused[0].reason.find("unknown setting \"colour\"") !=
          std::string::npos);
    CHECK_FALSE(types.Find("shelf"));
  }
  SECTION("a required setting that is missing is refused by name") {
    TypeRegistry types;
    PluginLoadReport report = LoadWith(types, BadPlugin("shelf"), {{"capacity", "3"}});
    REQUIRE(report.refused.size() == 1);
    CHECK(report.refused[0].reason.find("required setting \"label\"") !=
          std::string::npos);
  }
  SECTION("settings for a plugin that is not enabled are refused") {
    TypeRegistry types;
    PluginConfig config;
    config.dir = TRASHD_TEST_PLUGIN_DIR;
    config.enable = BuiltinPluginNames();
    config.settings["notebook"] = {{"max_pages", "5"}};
    PluginLoadReport report = LoadPlugins(config, types);
    REQUIRE(report.refused.size() == 1);
    CHECK(report.refused[0].reason.find("not enabled") != std::string::npos);
  }
}

TEST_CASE("Plugins: a hook that throws fails that operation only, with nothing changed",
          "[plugins]") {
  TestEnvOptions options;
  options.extra_types = [](TypeRegistry& types) {
    return LoadPlugin(BadPlugin("fragile"), {}, types).status();
  };
  TestEnv env(options);
  env.MakeWorkspace("acme");
  Resource boom = env.Create("acme", "fragile", "", "boom");
  Resource fine = env.Create("acme", "fragile", "", "fine");
  REQUIRE_OK(env->PutAsset(Alice(), "acme", boom.id, "file", "boom's file"));
  auto before_usage = env->GetUsage("acme");
  auto before_events = env->PendingEvents(0, 1000).size();

  auto failed = env->Trash(Alice(), "acme", boom.id);
  REQUIRE_CODE(failed, Code::kInternal);
  CHECK(failed.status().message().find("on_trashed hook threw: fragile resource broke") !=
        std::string::npos);
  // Nothing changed: still active, not in the Trash, no event, same usage.
  REQUIRE_OK(env->GetResource("acme", boom.id));
  auto trash = env->ListTrash("acme", TrashQuery{});
  REQUIRE_OK(trash);
  CHECK(trash->items.empty());
  CHECK(env->PendingEvents(0, 1000).size() == before_events);
  CHECK(env->GetUsage("acme")->trash_bytes == before_usage->trash_bytes);
  RequireFsckClean(env);

  // The next operation works.
  REQUIRE_OK(env->Trash(Alice(), "acme", fine.id));
  auto audit = env->Audit("acme", 0, 1000);
  bool refusal_audited = false;
  for (const auto& a : audit) refusal_audited |= !a.ok && a.target_id == boom.id;
  CHECK(refusal_audited);
}

TEST_CASE("Plugins: a type outlives its registry and keeps its library loaded",
          "[plugins]") {
  std::shared_ptr<const ResourceType> project;
  {
    auto types = std::make_unique<TypeRegistry>();
    PluginConfig config;
    config.dir = TRASHD_TEST_PLUGIN_DIR;
    config.enable = BuiltinPluginNames();
    REQUIRE(LoadPlugins(config, *types).refused.empty());
    REQUIRE(types->Freeze().ok());
    project = types->Share("project");
  }  // the registry is gone; the object and its code are not
  REQUIRE(project);
  CHECK(project->Info().name == "project");
  CHECK(project->Info().section == "projects");
  project.reset();  // destroys the object, then unloads the library (clean under ASan)
}

}  // namespace trashd::testing
