// What every benchmark program shares: the SCALE argument, a scratch directory, a
// stopwatch, a heap meter and the one-line report format.
//
// The heap meter counts the bytes live in malloc exactly (a malloc wrapper, see
// HeapInUse) and keeps the largest value between Start and Stop; no sampling thread
// disturbs the timings. The LMDB map is a file mapping, not malloc, so it is not
// counted; LMDB's dirty pages of a write transaction are malloc'd and are counted.
// Not thread-safe unless said otherwise: each program uses these from its main thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trashd::bench {

// argv[1] as a double (default 1); exits with a usage line when it is not positive.
double ParseScale(int argc, char** argv);
// n * scale, at least `min`.
uint64_t Scaled(uint64_t n, double scale, uint64_t min = 1);

// A directory under $TMPDIR (or /tmp), removed with everything in it at destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  // A fresh subdirectory `name` of this one.
  std::string Sub(const std::string& name) const;

 private:
  std::string path_;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                     start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// CPU time the whole machine has spent since it started, in microseconds: every core,
// every process (/proc/stat: user, nice, system, irq, softirq, steal). Over a load,
// divided by its operations, it is the load's cost, the load generator's share
// included; on a machine whose speed drifts it varies much less than a rate does.
double MachineCpuUs();

// A load's figures: operations per second, and the machine's CPU time per operation.
struct LoadRate {
  double per_second = 0;
  double cpu_us_per_op = 0;
};

// Bytes live in malloc right now, counted exactly: this library wraps malloc, free,
// calloc, realloc and the aligned forms for the whole process (liblmdb included) and
// adds up malloc_usable_size of every live block.
int64_t HeapInUse();

// The largest HeapInUse() between Start() and Stop().
class HeapMeter {
 public:
  // `reset` false keeps the peak of earlier Start()..Stop() spans.
  void Start(bool reset = true);
  void Stop();
  uint64_t base() const { return base_; }  // in use at the first Start()
  uint64_t peak() const { return peak_; }

 private:
  uint64_t base_ = 0;
  uint64_t peak_ = 0;
  bool started_ = false;
};

// Runs `fn` under a HeapMeter; returns its wall time in ms.
template <typename Fn>
double TimeWithHeap(HeapMeter& meter, Fn&& fn) {
  meter.Start();
  Stopwatch watch;
  fn();
  double ms = watch.Ms();
  meter.Stop();
  return ms;
}

double MiB(uint64_t bytes);

// One line saying how heap figures are measured.
void PrintHeapNote();

// Value at quantile q (0..1) of `samples` (sorted in place).
double Quantile(std::vector<double>& samples, double q);

// Peak resident set of the process (VmHWM), for context only: it includes the pages
// of the LMDB map the process touched.
uint64_t PeakRss();

// Prints "name  ours=...ms  floor=...ms  ratio=...  target...  heap_peak=...MiB ..."
// `target` is printed as given ("<=1.5", "<1ms"); `extra` is appended verbatim.
void Report(const std::string& name, double ours_ms, double floor_ms,
            const std::string& target, const HeapMeter& ours_heap,
            const HeapMeter& floor_heap, const std::string& extra = "");

// Aborts the program with a message when `ok` is false (setup must not fail quietly).
void Check(bool ok, const std::string& what);

}  // namespace trashd::bench
