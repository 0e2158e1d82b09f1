// The command lines `embedps local` starts its children with: where each
// child listens and writes (placement), the job's flags
// (launch/job_settings.h), then the pass-through flags.
#pragma once

#include <string>
#include <vector>

#include "launch/job_settings.h"
#include "launch/local_command.h"

namespace embedps::launch {

// What the children of one local job share besides the job's settings.
struct LocalPlacement {
  std::string run_dir;
  std::string key_dir;   // CURVE keys; empty: CURVE off
  std::string token;     // --cluster_token
  std::string endpoint;  // the scheduler's, for servers and workers
};

// Where child `name` writes its HTTP URL.
std::string UrlFile(const std::string& run_dir, const std::string& name);

// The flags of child `name` ("scheduler", "server-0", "standby-2",
// "worker-1") of `role`; o.job holds the job as it runs (the scheduler's
// training files, model and checkpoint directories).
std::vector<std::string> LocalChildArgs(const LocalOptions& o, const JobModel& model, const LocalPlacement& p,
                                        Role role, const std::string& name);

}  // namespace embedps::launch
