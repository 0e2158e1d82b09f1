// GET /healthz and GET /readyz, for Kubernetes probes and load balancers:
//   /healthz  200 "ok" while the process answers HTTP (liveness);
//   /readyz   200 "ready" once `ready()` holds, 503 "not ready" before
//             (a node that has not joined its job yet).
#pragma once

#include <functional>

#include "common/http/http_server.h"

namespace embedps::http {

void AddHealthRoutes(HttpServer* server, std::function<bool()> ready);

}  // namespace embedps::http
