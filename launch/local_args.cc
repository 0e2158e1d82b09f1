#include "launch/local_args.h"

namespace embedps::launch {
namespace {

// The flags every child gets: the job's token and, with CURVE, the key
// directory and the child's own key (named after the child).
std::vector<std::string> CommonFlags(const LocalPlacement& p, const std::string& child) {
  std::vector<std::string> flags = {"--cluster_token=" + p.token};
  if (!p.key_dir.empty()) {
    flags.push_back("--curve_dir=" + p.key_dir);
    if (child != "scheduler") flags.push_back("--curve_key=" + child);
  }
  return flags;
}

// The scheduler gets the requested HTTP port and the mutation settings; the
// other nodes take free ports and serve /metrics only.
std::vector<std::string> HttpFlags(const LocalOptions& o, const std::string& run_dir, const std::string& name) {
  if (o.http_port == -1) return {"--http_port=-1"};
  const bool scheduler = name == "scheduler";
  std::vector<std::string> flags = {"--http_port=" + std::to_string(scheduler ? o.http_port : 0),
                                    "--http_bind=" + o.http_bind, "--http_url_file=" + UrlFile(run_dir, name)};
  if (scheduler && o.http_enable_mutations) flags.push_back("--http_enable_mutations");
  if (scheduler && !o.http_token_file.empty()) flags.push_back("--http_token_file=" + o.http_token_file);
  return flags;
}

// Where the node listens or finds the scheduler, and the scheduler's
// cluster size and files in the run directory.
std::vector<std::string> PlacementFlags(const LocalOptions& o, const LocalPlacement& p, Role role) {
  if (role != Role::kScheduler) return {"--scheduler=" + p.endpoint};
  return {"--endpoint_file=" + p.run_dir + "/scheduler.endpoint", "--num_servers=" + std::to_string(o.servers),
          "--num_workers=" + std::to_string(o.workers),
          "--shuffle_seed=" + std::to_string(o.shuffle ? o.seed : 0),
          "--stats_json=" + p.run_dir + "/train_stats.json", "--job_name=embedps local"};
}

void AppendAll(std::vector<std::string>& args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
}

}  // namespace

std::string UrlFile(const std::string& run_dir, const std::string& name) {
  return run_dir + "/http/" + name + ".url";
}

std::vector<std::string> LocalChildArgs(const LocalOptions& o, const JobModel& model, const LocalPlacement& p,
                                        Role role, const std::string& name) {
  std::vector<std::string> args = CommonFlags(p, name);
  AppendAll(args, HttpFlags(o, p.run_dir, name));
  AppendAll(args, PlacementFlags(o, p, role));
  AppendAll(args, JobDaemonFlags(o.job, model, role));
  // Pass-through flags go last so they override the launcher's own.
  AppendAll(args, o.extra.For(RoleName(role)));
  return args;
}

}  // namespace embedps::launch
