// The answer of `embedps recommend` as JSON, and the HTTP route that serves
// it: GET /recommend?user=U&k=K.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/http_server.h"
#include "common/status.h"
#include "worker/eval/recommender.h"

namespace embedps::launch {

inline constexpr size_t kMaxRecommendK = 10000;

// A user id or K as the command line or a query gives it: decimal digits
// only. InvalidArgument naming `what` otherwise (or for K outside
// 1..kMaxRecommendK).
StatusOr<uint64_t> ParseUserId(const std::string& text);
StatusOr<size_t> ParseK(const std::string& text);

// {"user": U, "k": K, "items": [{"item": I, "score": S}, ...]}, best first.
nlohmann::json RecommendationJson(uint64_t user, size_t k, const std::vector<worker::ScoredItem>& items);

// GET /recommend?user=U&k=K (k defaults to 10): 200 with the JSON above,
// 400 for a missing or malformed user or k, 404 for a user without
// interactions. The server's single I/O thread runs the handler, which
// is what makes sharing `recommender` (not thread-safe) safe.
void AddRecommendRoute(http::HttpServer* server, worker::Recommender* recommender);

}  // namespace embedps::launch
