#include "common/flags/node_flags.h"

#include <iostream>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "common/allocator_tuning.h"

DEFINE_string(scheduler, "", "Scheduler endpoint, e.g. tcp://127.0.0.1:9000");
DEFINE_string(cluster_token, "embedps",
              "Shared token of this job; nodes with another token are refused");
DEFINE_int32(heartbeat_interval_ms, 1000, "How often a node heartbeats the scheduler");
DEFINE_int32(scheduler_timeout_ms, 30000,
             "A node gives up after hearing nothing from the scheduler this long");
DEFINE_int32(join_timeout_ms, 120000, "How long a node waits to be admitted");
DEFINE_int64(max_message_bytes, int64_t{256} << 20,
             "Largest message accepted; bigger ones are refused and counted");
DEFINE_string(curve_dir, "",
              "Directory from `embedps keygen`: turns ZeroMQ CURVE (encryption and key-based "
              "admission) on for every socket. Empty: plain text");
DEFINE_string(curve_key, "",
              "Name of this node's keypair in --curve_dir (NAME.pub, NAME.secret); needed by "
              "servers and workers when --curve_dir is set");

namespace embedps {

void InitProcess(int* argc, char*** argv, const char* usage) {
  gflags::SetUsageMessage(usage);
  gflags::ParseCommandLineFlags(argc, argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging((*argv)[0]);
  KeepLargeBuffersOnHeap();
  google::InstallFailureSignalHandler();
}

wire::DecodeLimits DecodeLimitsFromFlags() {
  wire::DecodeLimits limits;
  limits.max_message_bytes = static_cast<size_t>(FLAGS_max_message_bytes);
  return limits;
}

uint64_t ClusterIdFromFlags() { return ClusterIdFromToken(FLAGS_cluster_token); }

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
  ASSIGN_OR_RETURN(o.curve, CurveConfigFromFlags(/*binds=*/role == wire::Role::kServer,
                                                 /*connects=*/true));
  return o;
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
  return 1;
}

}  // namespace embedps
