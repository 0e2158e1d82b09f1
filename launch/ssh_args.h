// The command line `embedps ssh` runs for each node: the daemon, where it
// listens and finds the scheduler (placement), the job's flags
// (launch/job_settings.h), then the pass-through flags.
#pragma once

#include <string>
#include <vector>

#include "launch/job_settings.h"
#include "launch/ssh_command.h"
#include "launch/ssh_plan.h"

namespace embedps::launch {

// The scheduler's statistics, in the remote directory of its host.
inline constexpr char kSshStatsFile[] = "train_stats.json";

// What the nodes of one ssh job share besides the job's settings.
struct SshPlacement {
  std::vector<PlannedNode> nodes;  // the scheduler first (PlanNodes)
  std::string token;               // --cluster_token
  std::string remote_dir;          // pid files and statistics on every host
};

// The job as `embedps ssh` runs it: with checkpoints the scheduler runs with
// --resume=auto, so one started again resumes and a first one starts.
JobSettings SshJobSettings(JobSettings job);

// The daemon and its flags for node `n`; o.job is the job as it runs
// (SshJobSettings).
std::vector<std::string> SshNodeArgs(const SshOptions& o, const JobModel& model, const SshPlacement& p,
                                     const PlannedNode& n);

}  // namespace embedps::launch
