// PrometheusText: the text exposition format (0.0.4) that /metrics answers: one
// `# HELP` and `# TYPE` line per family, then its samples, each family once. It also
// reads the process_* family every Prometheus client exports (ProcessMetrics).
//
// Not thread-safe: one PrometheusText per scrape, on the scraping thread.
#pragma once

#include <string>
#include <string_view>

#include "store/store.h"

namespace trashd {

class PrometheusText {
 public:
  // Starts a family; `type` is "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view help, std::string_view type);
  // One sample of the family begun last; `labels` is "" or `a="x",b="y"` (each value
  // escaped with LabelValue). `name` is the family's, with a histogram's suffix.
  void Sample(std::string_view name, std::string_view labels, double value);
  // A family of one unlabelled sample.
  void Single(std::string_view name, std::string_view help, std::string_view type,
              double value);
  // A histogram's samples for `labels`: cumulative _bucket lines, _sum and _count.
  void Histogram(std::string_view name, std::string_view labels,
                 const DurationHistogram& histogram);

  // Another builder's families, after this one's.
  void Append(const PrometheusText& other) { text_ += other.text_; }

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// `value` escaped for a label value (backslash, double quote, newline).
std::string LabelValue(std::string_view value);

// process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds and the
// rest, from /proc/self; a family whose source cannot be read is left out.
void ProcessMetrics(PrometheusText& out);

}  // namespace trashd
