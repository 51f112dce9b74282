// The Prometheus text format, and the process_* family read from /proc.
#include "app/prometheus_text.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace trashd {
namespace {

std::string Number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  return buf;
}

// The fields of /proc/self/stat after the command name, from field 3 (state) on.
std::vector<std::string> ProcStatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 1));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// The boot time (Unix seconds), from /proc/stat's btime line; 0 when unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    std::string skip;
    std::getline(in, skip);
  }
  return 0;
}

}  // namespace

std::string LabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

void PrometheusText::Family(std::string_view name, std::string_view help,
                            std::string_view type) {
  text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::Sample(std::string_view name, std::string_view labels,
                            double value) {
  text_.append(name);
  if (!labels.empty()) text_.append("{").append(labels).append("}");
  text_.append(" ").append(Number(value)).append("\n");
}

void PrometheusText::Single(std::string_view name, std::string_view help,
                            std::string_view type, double value) {
  Family(name, help, type);
  Sample(name, "", value);
}

void PrometheusText::Histogram(std::string_view name, std::string_view labels,
                               const DurationHistogram& histogram) {
  const std::string base(name);
  const std::string sep = labels.empty() ? "" : std::string(labels) + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < histogram.counts.size(); ++i) {
    cumulative += histogram.counts[i];
    const bool last = i == DurationHistogram::kBoundsSeconds.size();
    const std::string le = last ? "+Inf" : Number(DurationHistogram::kBoundsSeconds[i]);
    Sample(base + "_bucket", sep + "le=\"" + le + "\"", static_cast<double>(cumulative));
  }
  Sample(base + "_sum", labels, histogram.sum_seconds);
  Sample(base + "_count", labels, static_cast<double>(histogram.count));
}

void ProcessMetrics(PrometheusText& out) {
  // Fields of /proc/self/stat, counted from 3: utime 14, stime 15, starttime 22,
  // vsize 23, rss 24 (pages).
  const std::vector<std::string> stat = ProcStatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (stat.size() >= 22 && ticks > 0) {
    auto field = [&](size_t n) { return std::stod(stat[n - 3]); };
    out.Single("process_cpu_seconds_total", "User and system CPU time spent.", "counter",
               (field(14) + field(15)) / ticks);
    out.Single("process_start_time_seconds", "When the process started (Unix time).",
               "gauge", BootTime() + field(22) / ticks);
    out.Single("process_virtual_memory_bytes", "Virtual memory size.", "gauge",
               field(23));
    out.Single("process_resident_memory_bytes", "Resident memory size.", "gauge",
               field(24) * static_cast<double>(sysconf(_SC_PAGESIZE)));
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (!ec) out.Single("process_open_fds", "Open file descriptors.", "gauge", fds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.Single("process_max_fds", "The most file descriptors the process may open.",
               "gauge", static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace trashd
