#include "launch/recommend_service.h"

#include <charconv>

#include "common/http/query.h"

namespace embedps::launch {
namespace {

StatusOr<uint64_t> ParseDecimal(const std::string& text, const char* what) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return InvalidArgument(std::string(what) + " must be a non-negative decimal integer, got '" + text + "'");
  }
  return value;
}

http::Response Error(int status, const std::string& message) {
  return http::JsonResponse(status, nlohmann::json{{"error", message}}.dump());
}

}  // namespace

StatusOr<uint64_t> ParseUserId(const std::string& text) { return ParseDecimal(text, "user"); }

StatusOr<size_t> ParseK(const std::string& text) {
  ASSIGN_OR_RETURN(const uint64_t k, ParseDecimal(text, "k"));
  if (k == 0 || k > kMaxRecommendK) {
    return InvalidArgument("k must be in 1.." + std::to_string(kMaxRecommendK) + ", got " + text);
  }
  return static_cast<size_t>(k);
}

nlohmann::json RecommendationJson(uint64_t user, size_t k, const std::vector<worker::ScoredItem>& items) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : items) list.push_back({{"item", s.item}, {"score", s.score}});
  return {{"user", user}, {"k", k}, {"items", list}};
}

void AddRecommendRoute(http::HttpServer* server, worker::Recommender* recommender) {
  server->Get("/recommend", [recommender](const http::Request& request) {
    const auto user_text = http::QueryParam(request.query, "user");
    if (!user_text) return Error(400, "missing parameter: user (GET /recommend?user=U&k=10)");
    auto user = ParseUserId(*user_text);
    if (!user.ok()) return Error(400, user.status().message());
    size_t k = 10;
    if (const auto k_text = http::QueryParam(request.query, "k")) {
      auto parsed = ParseK(*k_text);
      if (!parsed.ok()) return Error(400, parsed.status().message());
      k = *parsed;
    }
    auto items = recommender->Recommend(*user, k);
    if (!items.ok()) {
      return Error(items.status().code() == StatusCode::kNotFound ? 404 : 500, items.status().message());
    }
    return http::JsonResponse(200, RecommendationJson(*user, k, *items).dump());
  });
}

}  // namespace embedps::launch
