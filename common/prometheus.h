// Writes a MetricsRegistry's families in the Prometheus text exposition
// format (version 0.0.4): one HELP and TYPE line per family, then one line
// per series, histograms as cumulative _bucket{le=...}, _sum and _count.
#pragma once

#include <string>
#include <vector>

#include "common/metrics.h"

namespace embedps {

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// "server.pull_requests" as a counter -> "embedps_server_pull_requests_total":
// the embedps_ prefix, characters outside [a-zA-Z0-9_:] as '_', and counters
// ending in _total.
std::string PrometheusName(const std::string& name, MetricType type);

// The exposition of `families`, with `const_labels` (e.g. role, rank) added
// to every series; a series' own label of the same name wins.
std::string FormatPrometheus(const std::vector<MetricFamily>& families, const Labels& const_labels);

// Collect() and FormatPrometheus() with the registry's own constant labels.
std::string FormatPrometheus(const MetricsRegistry& registry);

}  // namespace embedps
