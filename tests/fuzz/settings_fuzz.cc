// Fuzz target: the YAML settings file. Any bytes give settings or an error naming what
// is wrong, never a crash; settings that load can be reported (--check-config),
// compared and reloaded, and compare equal to themselves.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "config/settings.h"
#include "fuzz/fuzz_engine.h"

namespace trashd::fuzz {
namespace {

void Write(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) Fail("cannot write " + path);
  if (size > 0 && std::fwrite(data, 1, size, f) != size) Fail("short write to " + path);
  std::fclose(f);
}

}  // namespace
}  // namespace trashd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trashd;
  using namespace trashd::fuzz;
  static const std::string path = MakeTempDir() + "/trashd.yaml";
  static const Settings defaults = DefaultSettings();
  Write(path, data, size);
  Result<Settings> loaded = LoadSettings(path, defaults);
  if (!loaded.ok()) {
    if (loaded.status().message().empty()) Fail("a refusal that says nothing");
    return 0;
  }
  const Settings& settings = loaded.value();
  (void)SettingsReport(settings, defaults);
  (void)PlanReload(defaults, settings);
  ReloadPlan back = PlanReload(settings, defaults);
  if (!CompareSettings(settings, settings).empty())
    Fail("settings differ from themselves");
  if (!CompareSettings(back.settings, ApplyReload(settings, defaults)).empty()) {
    Fail("PlanReload and ApplyReload disagree");
  }
  return 0;
}
