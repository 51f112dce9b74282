// The request duration histograms and refusal counts of /metrics.
#include "app/request_metrics.h"

namespace trashd {

void RequestMetrics::Record(const AccessLogEntry& entry) {
  const bool matched = !entry.route.empty();
  Key key{matched ? entry.method : "other", matched ? entry.route : "unmatched",
          std::to_string(entry.status / 100) + "xx"};
  std::lock_guard lock(mu_);
  durations_[std::move(key)].Add(entry.duration);
  if (entry.status == 401) ++unauthenticated_;
  if (entry.status == 403) ++forbidden_;
  if (entry.status == 429) ++rate_limited_;
}

void RequestMetrics::Write(PrometheusText& out) const {
  std::lock_guard lock(mu_);
  const char* duration = "trashd_http_request_duration_seconds";
  out.Family(duration,
             "Time from a request's complete head to its response, by method, route "
             "pattern and status class.",
             "histogram");
  for (const auto& [key, histogram] : durations_) {
    const auto& [method, route, status_class] = key;
    out.Histogram(duration,
                  "method=\"" + LabelValue(method) + "\",route=\"" + LabelValue(route) +
                      "\",class=\"" + status_class + "\"",
                  histogram);
  }
  const char* refusals = "trashd_http_refusals_total";
  out.Family(refusals,
             "Requests refused: no valid key (401), not allowed (403), over the rate "
             "limit (429).",
             "counter");
  out.Sample(refusals, "reason=\"unauthenticated\"",
             static_cast<double>(unauthenticated_));
  out.Sample(refusals, "reason=\"forbidden\"", static_cast<double>(forbidden_));
  out.Sample(refusals, "reason=\"rate_limited\"", static_cast<double>(rate_limited_));
}

}  // namespace trashd
