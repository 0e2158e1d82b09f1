// GET /metrics: a node's metrics in the Prometheus text format.
#pragma once

#include "common/http/http_server.h"
#include "common/metrics.h"

namespace embedps::http {

// Adds GET /metrics serving `metrics`, which must outlive the server's
// serving (stop the server first).
void AddMetricsRoute(HttpServer* server, const MetricsRegistry* metrics);

}  // namespace embedps::http
