#include "common/http/metrics_route.h"

#include "common/process_metrics.h"
#include "common/prometheus.h"

namespace embedps::http {

void AddMetricsRoute(HttpServer* server, const MetricsRegistry* metrics) {
  server->Get("/metrics", [metrics](const Request&) {
    Response r;
    r.content_type = kPrometheusContentType;
    r.body = FormatPrometheus(*metrics) + ProcessMetricsText();
    return r;
  });
}

}  // namespace embedps::http
