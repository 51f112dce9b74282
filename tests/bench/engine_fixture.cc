#include "engine_fixture.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "builtin.h"
#include "plugin/loader.h"

namespace trashd::bench {

// TRASHD_BENCH_TYPES=code registers the built-in types from code; anything else (the
// default) loads them as the plugins the daemon runs with, from the build tree.
bool TypesFromCode() {
  const char* mode = std::getenv("TRASHD_BENCH_TYPES");
  return mode && std::string(mode) == "code";
}

BenchEngine::BenchEngine(const std::string& data_dir, bool no_sync)
    : data_dir_(data_dir) {
  Status s;
  if (TypesFromCode()) {
    s = RegisterBuiltinTypes(types_);
  } else {
    PluginConfig plugins;
    plugins.dir = TRASHD_BENCH_PLUGIN_DIR;
    plugins.enable = BuiltinPluginNames();
    PluginLoadReport report = LoadPlugins(plugins, types_);
    if (!report.refused.empty()) s = Internal(report.refused.front().reason);
  }
  if (s.ok()) s = types_.Freeze();
  Check(s.ok(), "registering the built-in types: " + s.ToString());
  static bool said = false;
  if (!said) {
    std::printf("types: the five built-ins %s\n",
                TypesFromCode() ? "registered from code (TRASHD_BENCH_TYPES=code)"
                                : "loaded as plugins from the build tree");
    said = true;
  }
  Reopen(no_sync);
}

BenchEngine::~BenchEngine() = default;

void BenchEngine::Reopen(bool no_sync, size_t max_batch) {
  engine_.reset();
  EngineOptions options;
  options.data_dir = data_dir_;
  options.store.no_sync = no_sync;
  options.store.max_batch = max_batch;
  // Large enough from the start that setup does not spend its time growing the map.
  options.store.initial_map_bytes = 4ull << 30;
  // TRASHD_BENCH_PG=CONNINFO: the store on PostgreSQL instead (an empty schema).
  if (const char* pg = std::getenv("TRASHD_BENCH_PG"); pg && *pg) {
    options.store.backend = StoreBackend::kPostgres;
    options.store.postgres_conninfo = pg;
  }
  auto opened = Engine::Open(options, &types_, &clock_);
  Check(opened.ok(), "opening the engine: " + opened.status().ToString());
  engine_ = std::move(opened).value();
}

void BenchEngine::MakeWorkspace(const std::string& ws, int retention_days) {
  Workspace spec;
  spec.slug = ws;
  spec.name = ws + " workspace";
  spec.retention_days = retention_days;
  auto created = engine_->CreateWorkspace(Actor::Admin(), spec);
  Check(created.ok(), "creating workspace " + ws + ": " + created.status().ToString());
  Status s = engine_->AddMember(Actor::Admin(), ws, Member{"alice", "Alice", kOwnerRole});
  Check(s.ok(), "adding alice: " + s.ToString());
}

std::string BenchEngine::Create(const std::string& ws, const std::string& type,
                                const std::string& parent_id, const std::string& slug) {
  NewResource spec;
  spec.type = type;
  spec.parent_id = parent_id;
  spec.slug = slug;
  spec.name = slug;
  spec.owner_id = "alice";
  auto r = engine_->CreateResource(Alice(), ws, spec);
  Check(r.ok(), "creating " + type + " " + slug + ": " + r.status().ToString());
  return r->id;
}

TableCounts BenchEngine::Counts() {
  TableCounts counts{};
  auto txn = engine_->store().BeginRead();
  for (size_t t = 0; t < counts.size(); ++t)
    counts[t] = txn->Count(static_cast<Table>(t));
  return counts;
}

std::string BenchEngine::Diff(const TableCounts& before, const TableCounts& after) {
  std::string out;
  for (size_t t = 0; t < before.size(); ++t) {
    if (before[t] == after[t]) continue;
    int64_t d = static_cast<int64_t>(after[t]) - static_cast<int64_t>(before[t]);
    if (!out.empty()) out += ' ';
    out += std::string(TableName(static_cast<Table>(t))) + (d > 0 ? "+" : "") +
           std::to_string(d);
  }
  return out.empty() ? "(no entry added or removed)" : out;
}

double BenchEngine::AverageValueSize(Table table, uint64_t limit) {
  auto txn = engine_->store().BeginRead();
  auto c = txn->OpenCursor(table);
  uint64_t n = 0, bytes = 0;
  for (c->Seek(""); c->Valid() && n < limit; c->Next()) {
    bytes += c->value().size();
    ++n;
  }
  return n ? static_cast<double>(bytes) / static_cast<double>(n) : 0;
}

void FillTrashSet(BenchEngine& env, const TrashSetShape& shape) {
  for (uint64_t w = 0; w < std::min(shape.workspaces, shape.items); ++w) {
    env.MakeWorkspace(TrashSetWorkspace(shape, w));
  }
  Stopwatch watch;
  uint64_t step = std::max<uint64_t>(1, shape.items / 10);
  for (uint64_t i = 0; i < shape.items; ++i) {
    std::string ws = TrashSetWorkspace(shape, i);
    env.clock().Set(TrashSetDeletedAt(shape, i, kBenchStart));
    std::string id = env.Create(ws, "workflow", "", "wf-" + std::to_string(i));
    auto trashed = env->Trash(Alice(), ws, id);
    Check(trashed.ok(), "Trash " + id + ": " + trashed.status().ToString());
    if ((i + 1) % step == 0) {
      std::fprintf(stderr, "  setup: %llu/%llu items in the trash, %.0f items/s\n",
                   static_cast<unsigned long long>(i + 1),
                   static_cast<unsigned long long>(shape.items),
                   static_cast<double>(i + 1) * 1000 / watch.Ms());
    }
  }
}

}  // namespace trashd::bench
