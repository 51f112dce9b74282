#include "bench_util.h"

#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace trashd::bench {

double MachineCpuUs() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                     softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  if (!stat || cpu != "cpu") return 0;
  const double ticks = static_cast<double>(user + nice + system + irq + softirq + steal);
  return ticks * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ParseScale(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // results and stderr progress stay in order
  double scale = 1.0;
  if (argc > 1) {
    char* end = nullptr;
    scale = std::strtod(argv[1], &end);
    if (end == argv[1] || *end != '\0' || !(scale > 0)) {
      std::fprintf(stderr, "usage: %s [SCALE>0]  (1 = full size, 0.1 = a tenth)\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return scale;
}

uint64_t Scaled(uint64_t n, double scale, uint64_t min) {
  auto v = static_cast<uint64_t>(std::llround(static_cast<double>(n) * scale));
  return std::max(v, min);
}

ScratchDir::ScratchDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string templ =
      std::string(base && *base ? base : "/tmp") + "/trashd-bench-" + tag + "-XXXXXX";
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed for " + templ);
  path_ = templ;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ScratchDir::Sub(const std::string& name) const {
  std::string p = path_ + "/" + name;
  std::error_code ec;
  std::filesystem::remove_all(p, ec);
  std::filesystem::create_directories(p);
  return p;
}

namespace {

std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};

void Count(void* p) {
  if (!p) return;
  int64_t now = g_live.fetch_add(static_cast<int64_t>(malloc_usable_size(p)),
                                 std::memory_order_relaxed) +
                static_cast<int64_t>(malloc_usable_size(p));
  int64_t seen = g_peak.load(std::memory_order_relaxed);
  while (now > seen &&
         !g_peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}
void Uncount(void* p) {
  if (p)
    g_live.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)),
                     std::memory_order_relaxed);
}

}  // namespace

int64_t HeapInUse() { return g_live.load(std::memory_order_relaxed); }

void HeapMeter::Start(bool reset) {
  int64_t now = std::max<int64_t>(0, HeapInUse());
  g_peak.store(now, std::memory_order_relaxed);
  if (reset || !started_) {
    base_ = static_cast<uint64_t>(now);
    peak_ = base_;
    started_ = true;
  }
}

void HeapMeter::Stop() {
  peak_ = std::max(peak_, static_cast<uint64_t>(std::max<int64_t>(0, g_peak.load())));
}

void PrintHeapNote() {
  std::printf(
      "heap = bytes live in malloc, counted exactly by a malloc/free wrapper in the "
      "bench "
      "binary (malloc_usable_size), whole process; heap_peak is the most during the "
      "timed "
      "call, base what was live when it began. LMDB's malloc'd dirty pages count, its "
      "file map does not. Target: heap_peak < 64MiB\n");
}

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

double Quantile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size()))) - 1;
  return samples[std::min(i, samples.size() - 1)];
}

uint64_t PeakRss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

void Report(const std::string& name, double ours_ms, double floor_ms,
            const std::string& target, const HeapMeter& ours_heap,
            const HeapMeter& floor_heap, const std::string& extra) {
  double ratio = floor_ms > 0 ? ours_ms / floor_ms : 0;
  std::printf(
      "%-16s ours=%.3fms  floor=%.3fms  ratio=%.2f  target%s  heap_peak=%.1fMiB"
      " (base %.1fMiB)  floor_heap_peak=%.1fMiB (base %.1fMiB)%s%s\n",
      name.c_str(), ours_ms, floor_ms, ratio, target.c_str(), MiB(ours_heap.peak()),
      MiB(ours_heap.base()), MiB(floor_heap.peak()), MiB(floor_heap.base()),
      extra.empty() ? "" : "  ", extra.c_str());
  std::fflush(stdout);
}

void Check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "bench setup failed: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace trashd::bench

// The malloc wrapper behind HeapInUse(): glibc exports its allocator as __libc_*, and a
// definition of malloc in the executable takes the place of libc's for every library.
extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t n) noexcept {
  void* p = __libc_malloc(n);
  trashd::bench::Count(p);
  return p;
}
void free(void* p) noexcept {
  trashd::bench::Uncount(p);
  __libc_free(p);
}
void* calloc(size_t n, size_t size) noexcept {
  void* p = __libc_calloc(n, size);
  trashd::bench::Count(p);
  return p;
}
void* realloc(void* old, size_t n) noexcept {
  trashd::bench::Uncount(old);
  void* p = __libc_realloc(old, n);
  // A failed realloc leaves the old block live.
  trashd::bench::Count(p ? p : (n ? old : nullptr));
  return p;
}
void* memalign(size_t align, size_t n) noexcept {
  void* p = __libc_memalign(align, n);
  trashd::bench::Count(p);
  return p;
}
void* aligned_alloc(size_t align, size_t n) noexcept { return memalign(align, n); }
int posix_memalign(void** out, size_t align, size_t n) noexcept {
  void* p = memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"
