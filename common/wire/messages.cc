#include "common/wire/messages.h"

namespace embedps::wire {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kScheduler: return "scheduler";
    case Role::kServer: return "server";
    case Role::kWorker: return "worker";
    case Role::kClient: return "client";
    case Role::kUnknown: break;
  }
  return "unknown";
}

const char* ErrorCodeName(ErrorCode code) {
  static const char* const kNames[] = {"unknown",     "malformed",     "too_large",   "wrong_cluster",
                                       "unknown_table", "dim_mismatch", "bad_values", "stale_epoch",
                                       "not_owner",   "not_admitted",  "aborted",     "internal",
                                       "version_mismatch", "limit_exceeded", "unavailable", "replaced"};
  auto i = static_cast<size_t>(code);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "unknown";
}

const char* BodyName(const Body& body) {
  static const char* const kNames[] = {
      "register", "register_reply", "shard_map", "heartbeat", "pull", "pull_reply",
      "push", "push_reply", "barrier", "barrier_reply", "error", "shutdown",
      "partition_request", "partition_grant", "worker_done", "export_model", "export_model_reply",
      "push_pull", "stop_training", "checkpoint", "checkpoint_reply", "pause_training", "paused",
      "resume_training", "restore", "restore_reply", "clock_report", "clock_update", "handoff",
      "handoff_reply", "replica_push", "replica_ack", "evaluate", "eval_result"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == std::variant_size_v<Body>);
  return kNames[body.index()];
}

}  // namespace embedps::wire
