#include "scheduler/http_routes.h"

#include <nlohmann/json.hpp>

#include "scheduler/dashboard/dashboard_page.h"

namespace embedps::scheduler {

void AddSchedulerRoutes(http::HttpServer* server, StatusBoard* board) {
  server->Get("/", [](const http::Request&) {
    http::Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = DashboardHtml();
    // The page needs nothing but itself and /status.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; style-src "
                           "'unsafe-inline'; connect-src 'self'; img-src 'self' data:");
    return r;
  });
  server->Get("/status", [board](const http::Request&) {
    std::string status = board->status_json();
    if (status.empty()) return http::JsonResponse(503, R"({"error": "the scheduler is starting"})");
    return http::JsonResponse(200, status);
  });
  server->Post("/stop", [board](const http::Request&) {
    const bool first = board->RequestStop("requested through POST /stop");
    nlohmann::json j = {{"stopping", true}, {"already_requested", !first}};
    return http::JsonResponse(202, j.dump());
  });
  server->Post("/checkpoint", [board](const http::Request&) {
    board->RequestCheckpoint();
    return http::JsonResponse(202, R"({"checkpoint_requested": true})");
  });
}

}  // namespace embedps::scheduler
