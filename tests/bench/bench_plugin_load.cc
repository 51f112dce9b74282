// How long loading the five built-in plugins adds to start-up (issue target: < 20 ms):
// the first load in a fresh process (dlopen from the page cache, handshake, factory,
// registration), then the median of further loads into fresh registries (each one
// unloads its libraries when destroyed, so each is a real dlopen again).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench_util.h"
#include "plugin/loader.h"

namespace {

double LoadOnceMs() {
  trashd::TypeRegistry types;
  trashd::PluginConfig config;
  config.dir = TRASHD_BENCH_PLUGIN_DIR;
  config.enable = trashd::BuiltinPluginNames();
  auto start = std::chrono::steady_clock::now();
  trashd::PluginLoadReport report = trashd::LoadPlugins(config, types);
  trashd::Status frozen = types.Freeze();
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
          .count();
  trashd::bench::Check(report.refused.empty() && report.loaded.size() == 5 && frozen.ok(),
                       "loading the built-in plugins failed");
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  double first = LoadOnceMs();
  std::vector<double> again;
  for (int i = 0; i < 50; ++i) again.push_back(LoadOnceMs());
  std::sort(again.begin(), again.end());
  std::printf(
      "plugins.load_first   %.3fms  (5 built-ins, first load in this process)  "
      "target<20ms\n",
      first);
  std::printf(
      "plugins.load_median  %.3fms  max=%.3fms  (50 further loads into fresh "
      "registries)\n",
      again[again.size() / 2], again.back());
  return 0;
}
