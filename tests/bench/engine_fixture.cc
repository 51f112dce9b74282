#include "engine_fixture.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "builtin.h"
#include "plugin/loader.h"

namespace trashd::bench {

// TRASHD_BENCH_TYPES=code registers the built-in types from code; anything else (the
// default) loads them as the plugins the daemon runs with, from the build tree.
bool TypesFromCode() {
  const char* mode = std::getenv("TRASHD_BENCH_TYPES");
  return mode && std::string(mode) == "code";
}

BenchEngine::BenchEngine(const std::string& data_dir, bool no_sync,
                         std::string pg_conninfo)
    : data_dir_(data_dir), pg_conninfo_(std::move(pg_conninfo)) {
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
  const char* pg = std::getenv("TRASHD_BENCH_PG");
  if (!pg_conninfo_.empty() || (pg && *pg)) {
    options.store.backend = StoreBackend::kPostgres;
    options.store.postgres_conninfo = pg_conninfo_.empty() ? pg : pg_conninfo_;
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

namespace trashd::bench {

uint64_t TrashSetExpired(const TrashSetShape& shape, TimeMs now) {
  uint64_t expired = 0;
  while (expired < shape.items &&
         TrashSetDeletedAt(shape, expired, kBenchStart) + 30 * kMsPerDay <= now) {
    ++expired;
  }
  return expired;
}

std::string BuildProjectTree(BenchEngine& env, const std::string& ws,
                             const CascadeShape& shape) {
  std::string project = env.Create(ws, "project", "", "big-project");
  for (uint64_t v = 0; v < shape.versions; ++v) {
    env.clock().Advance(60 * 1000);
    std::string version = env.Create(ws, "version", project, "");
    for (uint64_t m = 0; m < shape.models_per_version; ++m) {
      env.clock().Advance(1000);
      std::string model = env.Create(ws, "model", version,
                                     "m-" + std::to_string(v) + "-" + std::to_string(m));
      if (shape.asset_every && m % shape.asset_every == 0) {
        std::string content(1024, 'w');
        content.replace(0, model.size(), model);  // distinct content, distinct asset
        auto a = env->PutAsset(Alice(), ws, model, "weights", content);
        Check(a.ok(), "PutAsset: " + a.status().ToString());
      }
    }
  }
  return project;
}

void CopyStore(BenchEngine& from, BenchEngine& to, const std::string& from_dir,
               const std::string& to_dir) {
  constexpr size_t kRowsPerWrite = 50000;
  auto reader = from->store().BeginRead();
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    const auto table = static_cast<Table>(t);
    auto c = reader->OpenCursor(table);
    c->Seek("");
    while (c->Valid()) {
      std::vector<std::pair<std::string, std::string>> rows;
      for (; c->Valid() && rows.size() < kRowsPerWrite; c->Next()) {
        rows.emplace_back(std::string(c->key()), std::string(c->value()));
      }
      Status s = to->store().Write([&](WriteTxn& txn) {
        for (const auto& [k, v] : rows) txn.Put(table, k, v);
        return Status::Ok();
      });
      Check(s.ok(),
            "copying table " + std::string(TableName(table)) + ": " + s.ToString());
    }
    Check(reader->status().ok(),
          "reading the store to copy: " + reader->status().ToString());
  }
  namespace fs = std::filesystem;
  if (fs::exists(from_dir + "/blobs")) {
    fs::copy(from_dir + "/blobs", to_dir + "/blobs",
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
}

}  // namespace trashd::bench
