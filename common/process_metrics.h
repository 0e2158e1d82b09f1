// The standard process metrics every Prometheus client library exports
// (process_cpu_seconds_total, process_resident_memory_bytes, ...), read
// from /proc/self, and embedps_build_info{version, commit}: appended to
// every node's /metrics so dashboards and alerts written for other services
// work here too.
#pragma once

#include <cstdint>
#include <string>

namespace embedps {

// The families in the Prometheus text format; the process ones are empty
// where /proc cannot be read.
std::string ProcessMetricsText();

// This process's resident memory (RSS) in bytes; 0 when /proc cannot say.
uint64_t ResidentBytes();

}  // namespace embedps
