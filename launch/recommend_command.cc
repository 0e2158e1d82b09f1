#include "launch/recommend_command.h"

#include <chrono>
#include <cstdio>
#include <limits>
#include <thread>

#include "common/flags/node_flags.h"
#include "common/http/health_routes.h"
#include "common/http/http_server.h"
#include "common/http/metrics_route.h"
#include "launch/job_control.h"
#include "launch/local_command.h"
#include "launch/recommend_service.h"
#include "worker/data/format.h"
#include "worker/eval/interactions.h"

namespace embedps::launch {
namespace {

StatusOr<worker::Interactions> LoadInteractions(const RecommendOptions& o) {
  if (o.train.empty()) return worker::ReadInteractionsFile(o.model_dir + "/" + worker::kInteractionsFile);
  ASSIGN_OR_RETURN(const auto format, data::FormatFromFlag(o.format));
  worker::ScanOptions scan;
  scan.max_bad_line_fraction = o.max_bad_line_fraction;
  return worker::CollectInteractions(o.train, format, scan);
}

void PrintText(uint64_t user, const std::vector<worker::ScoredItem>& items, const std::string& model) {
  std::printf("embedps: top %zu items for user %llu (%s model)\nrank\titem\tscore\n", items.size(),
              static_cast<unsigned long long>(user), model.c_str());
  for (size_t i = 0; i < items.size(); ++i) {
    std::printf("%zu\t%llu\t%.6g\n", i + 1, static_cast<unsigned long long>(items[i].item), items[i].score);
  }
}

Status Serve(const RecommendOptions& o, worker::Recommender* recommender) {
  if (o.serve_port > 65535) return InvalidArgument("--serve must be a port in 0..65535");
  http::HttpServerOptions http_options;
  http_options.bind_address = o.bind;
  http_options.port = o.serve_port;
  http::HttpServer server(http_options);
  AddRecommendRoute(&server, recommender);
  // The process and build metrics, and the probes: the model is loaded,
  // so it is ready as soon as it listens.
  MetricsRegistry metrics;
  http::AddMetricsRoute(&server, &metrics);
  http::AddHealthRoutes(&server, [] { return true; });
  InstallInterruptHandler();
  ASSIGN_OR_RETURN(const std::string url, StartHttpServer(&server));
  std::printf("embedps: serving recommendations at %s/recommend?user=U&k=10 (Ctrl-C stops)\n", url.c_str());
  std::fflush(stdout);
  while (!Interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.Stop();
  std::printf("embedps: stopped serving\n");
  return Status::OK();
}

}  // namespace

Status RunRecommend(const RecommendOptions& o, const data::SideFeatures* side) {
  if (o.model_dir.empty()) return InvalidArgument("--model is required");
  if (o.serve_port < 0 && o.user.empty()) return InvalidArgument("--user is required (or --serve PORT)");
  ASSIGN_OR_RETURN(auto exported, LoadExportedModel(o.model_dir));
  // Rank by the unclipped rating: clipping would tie every item above the top.
  RETURN_IF_ERROR(exported->SetRatingRange(-std::numeric_limits<float>::infinity(),
                                           std::numeric_limits<float>::infinity()));
  ASSIGN_OR_RETURN(const worker::Interactions seen, LoadInteractions(o));
  worker::Recommender recommender(*exported, seen, side);
  if (o.serve_port >= 0) return Serve(o, &recommender);
  ASSIGN_OR_RETURN(const uint64_t user, ParseUserId(o.user));
  ASSIGN_OR_RETURN(const size_t k, ParseK(o.k));
  ASSIGN_OR_RETURN(const auto items, recommender.Recommend(user, k));
  if (o.json) {
    std::printf("%s\n", RecommendationJson(user, k, items).dump().c_str());
  } else {
    PrintText(user, items, exported->info().spec.model);
  }
  return Status::OK();
}

}  // namespace embedps::launch
