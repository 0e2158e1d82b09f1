#include "common/flags/node_flags.h"

#include <atomic>

#include <cstdio>
#include <fstream>
#include <iostream>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "common/stop_signal.h"
#include "common/allocator_tuning.h"
#include "common/build_info.h"
#include "common/flags/parse_flags.h"
#include "common/http/health_routes.h"
#include "common/http/metrics_route.h"
#include "common/http/token_file.h"
#include "common/log_setup.h"

DEFINE_string(scheduler, "", "Scheduler endpoint, e.g. tcp://127.0.0.1:9000");
DEFINE_string(cluster_token, "embedps",
              "Shared token of this job; nodes with another token are refused");
DEFINE_int32(heartbeat_interval_ms, 1000, "How often a node heartbeats the scheduler");
DEFINE_int32(scheduler_timeout_ms, 30000,
             "A node gives up after hearing nothing from the scheduler this long");
DEFINE_int32(join_timeout_ms, 120000, "How long a node waits to be admitted");
DEFINE_int64(max_message_bytes, int64_t{256} << 20,
             "Largest message accepted; bigger ones are refused and counted");
DEFINE_int32(http_port, 0,
             "Port of this node's HTTP endpoint (/metrics; on the scheduler also /status, / and "
             "/stop); 0: a free port chosen by the OS; -1: no HTTP endpoint");
DEFINE_string(http_bind, "127.0.0.1",
              "Address the HTTP endpoint listens on (0.0.0.0: every interface)");
DEFINE_bool(http_enable_mutations, false,
            "Allow mutating HTTP endpoints (POST /stop); they need --http_token_file");
DEFINE_string(http_token_file, "",
              "File holding the bearer token mutating HTTP requests must send "
              "(Authorization: Bearer <token>)");
DEFINE_string(http_url_file, "", "Write this node's HTTP URL (http://HOST:PORT) here once listening");
DEFINE_string(curve_dir, "",
              "Directory from `embedps keygen`: turns ZeroMQ CURVE (encryption and key-based "
              "admission) on for every socket. Empty: plain text");
DEFINE_string(curve_key, "",
              "Name of this node's keypair in --curve_dir (NAME.pub, NAME.secret); needed by "
              "servers and workers when --curve_dir is set");

namespace embedps {

void InitProcess(int* argc, char*** argv, const char* usage, wire::Role role) {
  gflags::SetUsageMessage(usage);
  gflags::SetVersionString(VersionString());
  ParseFlagsOrExit(argc, argv);
  if (!FLAGS_log_dir.empty()) {
    auto path = RedirectLogToDir(FLAGS_log_dir, role);
    if (path.ok()) {
      std::printf("%s: logging to %s\n", (*argv)[0], path->c_str());
      std::fflush(stdout);
    } else {
      std::cerr << (*argv)[0] << ": warning: " << path.status().message()
                << "; logging to stderr" << std::endl;
    }
  }
  InitLogging((*argv)[0], JobIdFromFlags(), role);
  KeepLargeBuffersOnHeap();
  google::InstallFailureSignalHandler();
  InstallStopOnSigterm();  // a request to stop well, not a crash
}

wire::DecodeLimits DecodeLimitsFromFlags() {
  wire::DecodeLimits limits;
  limits.max_message_bytes = static_cast<size_t>(FLAGS_max_message_bytes);
  return limits;
}

uint64_t ClusterIdFromFlags() { return ClusterIdFromToken(FLAGS_cluster_token); }

std::string JobIdFromFlags() { return JobIdFromClusterId(ClusterIdFromFlags()); }

StatusOr<SchedulerLinkOptions> LinkOptionsFromFlags(wire::Role role) {
  if (FLAGS_scheduler.empty()) return InvalidArgument("--scheduler is required");
  if (FLAGS_heartbeat_interval_ms <= 0) return InvalidArgument("--heartbeat_interval_ms must be > 0");
  if (FLAGS_scheduler_timeout_ms <= FLAGS_heartbeat_interval_ms) {
    return InvalidArgument("--scheduler_timeout_ms must exceed --heartbeat_interval_ms");
  }
  if (FLAGS_join_timeout_ms <= 0) return InvalidArgument("--join_timeout_ms must be > 0");
  if (FLAGS_max_message_bytes < 1024) return InvalidArgument("--max_message_bytes must be >= 1024");
  SchedulerLinkOptions o;
  o.scheduler_endpoint = FLAGS_scheduler;
  o.cluster_id = ClusterIdFromFlags();
  o.role = role;
  o.heartbeat_interval = std::chrono::milliseconds(FLAGS_heartbeat_interval_ms);
  o.scheduler_timeout = std::chrono::milliseconds(FLAGS_scheduler_timeout_ms);
  o.join_timeout = std::chrono::milliseconds(FLAGS_join_timeout_ms);
  o.limits = DecodeLimitsFromFlags();
  o.on_joined = [](uint32_t rank) {
    SetLogRank(rank);
    MarkNodeReady();
  };
  ASSIGN_OR_RETURN(o.curve, CurveConfigFromFlags(/*binds=*/role == wire::Role::kServer,
                                                 /*connects=*/true));
  return o;
}

StatusOr<std::unique_ptr<http::HttpServer>> HttpServerFromFlags(const MetricsRegistry* metrics) {
  if (FLAGS_http_port == -1) return std::unique_ptr<http::HttpServer>();
  if (FLAGS_http_port < -1 || FLAGS_http_port > 65535) {
    return InvalidArgument("--http_port must be -1 (off), 0 (any free port) or 1..65535");
  }
  if (FLAGS_http_bind.empty()) return InvalidArgument("--http_bind must not be empty");
  http::HttpServerOptions o;
  o.bind_address = FLAGS_http_bind;
  o.port = FLAGS_http_port;
  o.enable_mutations = FLAGS_http_enable_mutations;
  if (FLAGS_http_enable_mutations && FLAGS_http_token_file.empty()) {
    return InvalidArgument("--http_enable_mutations needs --http_token_file (the bearer token "
                           "mutating requests must send)");
  }
  if (!FLAGS_http_token_file.empty()) {
    auto token = http::ReadTokenFile(FLAGS_http_token_file);
    if (!token.ok()) return token.status().WithContext("--http_token_file");
    o.bearer_token = std::move(token).value();
  }
  auto server = std::make_unique<http::HttpServer>(o);
  http::AddMetricsRoute(server.get(), metrics);
  http::AddHealthRoutes(server.get(), NodeReady);
  return server;
}

namespace {
std::atomic<bool> node_ready{false};
}  // namespace

void MarkNodeReady() { node_ready = true; }
bool NodeReady() { return node_ready; }

StatusOr<std::string> StartHttpServer(http::HttpServer* server) {
  if (server == nullptr) return std::string();
  RETURN_IF_ERROR(server->Start());
  const std::string url = server->url();
  LOG(INFO) << "HTTP endpoint at " << url << " (metrics: " << url << "/metrics)";
  if (!FLAGS_http_url_file.empty()) {
    // Written under a temporary name and renamed, so a reader never sees
    // half a URL.
    const std::string tmp = FLAGS_http_url_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << url << "\n";
      if (!out) return Unavailable("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), FLAGS_http_url_file.c_str()) != 0) {
      return Unavailable("cannot write --http_url_file " + FLAGS_http_url_file);
    }
  }
  return url;
}

StatusOr<std::unique_ptr<http::HttpServer>> StartMetricsServerFromFlags(
    const MetricsRegistry* metrics, std::string* url) {
  ASSIGN_OR_RETURN(auto server, HttpServerFromFlags(metrics));
  ASSIGN_OR_RETURN(*url, StartHttpServer(server.get()));
  return server;
}

StatusOr<security::CurveConfig> CurveConfigFromFlags(bool binds, bool connects) {
  if (FLAGS_curve_dir.empty()) {
    if (!FLAGS_curve_key.empty()) return InvalidArgument("--curve_key needs --curve_dir");
    return security::CurveConfig{};
  }
  if (connects && FLAGS_curve_key.empty()) {
    return InvalidArgument("--curve_dir needs --curve_key (the name of this node's keypair)");
  }
  auto curve = security::LoadCurveConfig(FLAGS_curve_dir, connects ? FLAGS_curve_key : "", binds);
  if (!curve.ok()) return curve.status().WithContext("--curve_dir");
  return curve;
}

int ExitWithError(const char* program, const Status& status) {
  std::cerr << program << ": error: " << status.message() << std::endl;
  return IsUsageError(status) ? kExitUsageError : 1;
}

}  // namespace embedps
