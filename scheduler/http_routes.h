// The scheduler's HTTP endpoints, besides /metrics:
//   GET  /        the live dashboard (read-only)
//   GET  /status  the job's status as JSON (see docs/operations.md)
//   POST /stop    ends the job cleanly (mutating: needs the bearer token)
#pragma once

#include "common/http/http_server.h"
#include "scheduler/status_board.h"

namespace embedps::scheduler {

// Adds the routes above to `server`; `board` must outlive its serving.
void AddSchedulerRoutes(http::HttpServer* server, StatusBoard* board);

}  // namespace embedps::scheduler
