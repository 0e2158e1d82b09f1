#include "common/http/health_routes.h"

namespace embedps::http {

void AddHealthRoutes(HttpServer* server, std::function<bool()> ready) {
  server->Get("/healthz", [](const Request&) {
    Response r;
    r.body = "ok\n";
    return r;
  });
  server->Get("/readyz", [ready = std::move(ready)](const Request&) {
    Response r;
    if (ready()) {
      r.body = "ready\n";
    } else {
      r.status = 503;
      r.body = "not ready: not yet joined its job\n";
    }
    return r;
  });
}

}  // namespace embedps::http
