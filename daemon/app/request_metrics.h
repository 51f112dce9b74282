// RequestMetrics: what the listeners' access log says, kept for /metrics: a duration
// histogram per method, route pattern ("/:ws/trash", never the raw path, so the label
// set stays bounded) and status class, and the refusals an operator alerts on (401
// unauthenticated, 403 forbidden, 429 rate-limited).
//
// Thread-safety: Record is called on many threads at once and Write while it runs;
// one mutex guards the counts.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "app/prometheus_text.h"
#include "http/server.h"

namespace trashd {

class RequestMetrics {
 public:
  void Record(const AccessLogEntry& entry);
  // The trashd_http_request_duration_seconds and trashd_http_refusals_total families.
  void Write(PrometheusText& out) const;

 private:
  // (method, route, status class) of requests that matched a route; the method of
  // one that did not is "other" and its route "unmatched".
  using Key = std::tuple<std::string, std::string, std::string>;
  mutable std::mutex mu_;
  std::map<Key, DurationHistogram> durations_;
  uint64_t unauthenticated_ = 0;
  uint64_t forbidden_ = 0;
  uint64_t rate_limited_ = 0;
};

}  // namespace trashd
