// Flags shared by every daemon (scheduler address, cluster token, timeouts,
// message limits) and the process start-up every main() does. This is the
// only place besides the main.cc files that reads gflags.
#pragma once

#include <string>

#include "common/scheduler_link.h"
#include "common/status.h"

namespace embedps {

// Parses flags (including --flagfile), sends glog to stderr, and installs
// glog's failure handler. `usage` is shown by --help.
void InitProcess(int* argc, char*** argv, const char* usage);

// Scheduler-link options for a node of `role`, from the shared flags.
// InvalidArgument for missing or out-of-range values.
StatusOr<SchedulerLinkOptions> LinkOptionsFromFlags(wire::Role role);

// The decode limits from --max_message_bytes.
wire::DecodeLimits DecodeLimitsFromFlags();

// CURVE keys from --curve_dir and --curve_key (disabled when --curve_dir is
// empty): a node that `binds` loads the cluster secret and the allow-list,
// one that `connects` its own keypair.
StatusOr<security::CurveConfig> CurveConfigFromFlags(bool binds, bool connects);

// The cluster id from --cluster_token.
uint64_t ClusterIdFromFlags();

// Prints "<program>: error: <message>" as one line and returns exit code 1.
int ExitWithError(const char* program, const Status& status);

}  // namespace embedps
