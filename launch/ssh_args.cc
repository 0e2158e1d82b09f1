#include "launch/ssh_args.h"

namespace embedps::launch {
namespace {

// Where the node listens or finds the scheduler, and the scheduler's
// cluster size and statistics file.
std::vector<std::string> PlacementFlags(const SshOptions& o, const SshPlacement& p, const PlannedNode& n) {
  const PlannedNode& sched = p.nodes.front();
  const std::string scheduler = "tcp://" + sched.host + ":" + std::to_string(sched.port);
  const std::string bind = "tcp://" + o.bind_host + ":" + std::to_string(n.port);
  if (n.role == "scheduler") {
    size_t servers = 0, workers = 0;
    for (const auto& node : p.nodes) {
      servers += node.role == "server";
      workers += node.role == "worker";
    }
    return {"--bind=" + bind, "--num_servers=" + std::to_string(servers),
            "--num_workers=" + std::to_string(workers), "--stats_json=" + p.remote_dir + "/" + kSshStatsFile};
  }
  if (n.role == "server") return {"--scheduler=" + scheduler, "--bind=" + bind, "--advertise_host=" + n.host};
  return {"--scheduler=" + scheduler};
}

void AppendAll(std::vector<std::string>& args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
}

}  // namespace

JobSettings SshJobSettings(JobSettings job) {
  job.checkpoints.resume = job.checkpoints.dir.empty() ? "" : "auto";
  return job;
}

std::vector<std::string> SshNodeArgs(const SshOptions& o, const JobModel& model, const SshPlacement& p,
                                     const PlannedNode& n) {
  const Role role = n.role == "scheduler" ? Role::kScheduler : n.role == "server" ? Role::kServer : Role::kWorker;
  std::vector<std::string> a = {o.remote_bin_dir + "/embedps-" + n.role, "--cluster_token=" + p.token};
  AppendAll(a, PlacementFlags(o, p, n));
  AppendAll(a, JobDaemonFlags(o.job, model, role));
  if (n.http_port >= 0) AppendAll(a, {"--http_port=" + std::to_string(n.http_port), "--http_bind=" + o.http_bind});
  if (!o.curve_dir.empty()) {
    a.push_back("--curve_dir=" + o.curve_dir);
    if (role != Role::kScheduler) a.push_back("--curve_key=" + n.name);
  }
  // Pass-through flags go last so they override the launcher's own.
  AppendAll(a, o.extra.For(n.role));
  return a;
}

}  // namespace embedps::launch
