#include "launch/ssh_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/input_files.h"
#include "common/security/curve_keys.h"
#include "launch/export_eval.h"
#include "launch/job_control.h"
#include "launch/job_model.h"
#include "launch/process_group.h"
#include "launch/remote_shell.h"
#include "launch/ssh_args.h"
#include "launch/supervisor.h"
#include "worker/model/model_flags.h"

namespace embedps::launch {
namespace {

using Clock = std::chrono::steady_clock;

// Everything the nodes of one job share.
struct Job {
  const SshOptions* options = nullptr;  // options->job is the job as it runs (SshJobSettings)
  std::string ssh;  // absolute path of the client
  std::string job_dir;
  SshPlacement placement;
  size_t servers = 0, workers = 0;
  // The model the workers train, as the model flags describe it.
  JobModel model;
};

// The --format value, or the format of the first training file when this
// machine can read it.
StatusOr<data::Format> JobFormat(const DataSettings& d) {
  ASSIGN_OR_RETURN(const std::optional<data::Format> requested, data::FormatFromFlag(d.format));
  if (requested) return *requested;
  auto files = ExpandInputs(d.train);
  if (!files.ok() || files->empty() || !std::filesystem::is_regular_file((*files)[0])) {
    return InvalidArgument("give --format: the format is detected from the first training file, and '" +
                           d.train + "' is not readable on this machine");
  }
  return data::DetectFileFormat((*files)[0]);
}

// Builds the model from the model flags, as every worker will.
StatusOr<JobModel> PrepareModel(const JobSettings& job) {
  ASSIGN_OR_RETURN(const data::Format format, JobFormat(job.data));
  RETURN_IF_ERROR(AdoptRatingRange(job.data.train, format, job.data.max_bad_line_fraction));
  ASSIGN_OR_RETURN(JobModel model, BuildJobModel(format, job.data.train));
  RETURN_IF_ERROR(CheckEvalSettings(job, model.spec));
  return model;
}

StatusOr<std::string> FindInPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return NotFound("cannot find '" + program + "' in PATH (install openssh-client or pass --ssh)");
}

std::string NewJobId() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string("ssh-") + host + "-" + std::to_string(getpid()) + "-" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
}

// One local ssh process running `command` on `destination`.
ChildSpec SshSpec(const Job& job, const std::string& name, const std::string& destination,
                  const std::string& command, const std::string& log_file) {
  ChildSpec spec{name, job.ssh,
                 {"-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o",
                  "ServerAliveCountMax=3"},
                 log_file};
  spec.args.insert(spec.args.end(), job.options->ssh_options.begin(), job.options->ssh_options.end());
  spec.args.insert(spec.args.end(), {destination, command});
  spec.own_process_group = true;
  return spec;
}

std::string LogFile(const Job& job, const std::string& name) {
  return job.job_dir + "/logs/" + name + ".log";
}

Status DescribeNodeExit(const Job& job, const ChildExit& exit) {
  std::string host = "?";
  for (const auto& n : job.placement.nodes) {
    if (n.name == exit.name) host = n.destination;
  }
  std::string how;
  if (exit.signaled) {
    how = "lost its ssh process (killed by signal " + std::to_string(exit.exit_code - 128) + ")";
  } else if (exit.exit_code == 255) {
    how = "could not be reached or lost its ssh connection (ssh exit 255)";
  } else if (exit.exit_code > 128) {
    how = "was killed by signal " + std::to_string(exit.exit_code - 128);
  } else {
    how = "exited with code " + std::to_string(exit.exit_code);
  }
  const std::string why = LastErrorLine(exit.log_file);
  return Aborted(exit.name + " on " + host + " " + how + (why.empty() ? "" : ": " + why) +
                 " (log: " + exit.log_file + ")");
}

void PrintPlan(const Job& job) {
  std::set<std::string> machines;
  const std::vector<PlannedNode>& nodes = job.placement.nodes;
  for (const auto& n : nodes) machines.insert(n.machine);
  std::printf("embedps: ssh job with %zu servers and %zu workers on %zu host%s; model %s on %s data; "
              "logs in %s/logs\n",
              job.servers, job.workers, machines.size(), machines.size() == 1 ? "" : "s",
              job.model.spec.model.c_str(), data::FormatName(job.model.format), job.job_dir.c_str());
  for (const auto& n : nodes) {
    std::printf("  %-10s %s", n.name.c_str(), n.destination.c_str());
    if (n.role != "worker") std::printf(" port %d", n.port);
    if (n.http_port >= 0) std::printf("  metrics http://%s:%d/metrics", n.host.c_str(), n.http_port);
    std::printf("\n");
  }
  std::fflush(stdout);
}

// The ssh command that runs node `n` on its host.
ChildSpec NodeSpec(const Job& job, const PlannedNode& n) {
  const std::string command = RemoteNodeCommand(job.placement.remote_dir, n.name,
                                                SshNodeArgs(*job.options, job.model, job.placement, n));
  ChildSpec spec = SshSpec(job, n.name, n.destination, command, LogFile(job, n.name));
  spec.stdin_pipe = true;
  spec.inherit_stdout = n.role == "scheduler";  // progress lines go to the user
  return spec;
}

Status StartNodes(const Job& job, ProcessGroup& group) {
  for (const auto& n : job.placement.nodes) RETURN_IF_ERROR(group.Start(NodeSpec(job, n)).status());
  return Status::OK();
}

// SIGTERM to the scheduler's daemon on its host (not to the local ssh
// client: its wrapper would kill the daemon outright), so the job stops
// well. Best effort, within 10 s.
void StopRemoteScheduler(const Job& job) {
  const PlannedNode& sched = job.placement.nodes.front();
  ProcessGroup helper;
  ChildSpec spec = SshSpec(job, "stop", sched.destination,
                           "kill -TERM \"$(cat " + ShellQuote(job.placement.remote_dir + "/" + sched.name + ".pid") + ")\"",
                           LogFile(job, "stop"));
  if (!helper.Start(spec).ok()) return;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (helper.running() > 0 && Clock::now() < deadline) helper.WaitAny(std::chrono::milliseconds(50));
}

// Supervises the job (SuperviseJob): with checkpoints, a node whose daemon
// was killed on its host (ssh reports 128 + the signal) is started again
// there; anything else ends the job.
Status SuperviseNodes(const Job& job, ProcessGroup& group) {
  const SshOptions& o = *job.options;
  SupervisePolicy policy;
  policy.timeout = std::chrono::seconds(o.timeout_s);
  policy.can_recover = !o.job.checkpoints.dir.empty();
  policy.restart_failed = o.restart_failed;
  policy.max_restarts = o.max_restarts;
  policy.stop_scheduler = [&job] { StopRemoteScheduler(job); };
  Restart restart;
  restart.killed = [](const ChildExit& exit) {
    return exit.signaled || (exit.exit_code > 128 && exit.exit_code != 255);
  };
  restart.describe = [&job](const ChildExit& exit) { return DescribeNodeExit(job, exit); };
  restart.spec = [&job](const ChildExit& exit) -> StatusOr<ChildSpec> {
    for (const auto& n : job.placement.nodes) {
      if (n.name == exit.name) return NodeSpec(job, n);
    }
    return NotFound("no node named " + exit.name);
  };
  return SuperviseJob(group, policy, restart);
}

// Runs the cleanup command once per host of the job, all at once, waiting at
// most 20 s. With `fetch_stats`, the scheduler's host also prints the job
// statistics into JOB_DIR/train_stats.json before they are removed.
Status CleanUpHosts(const Job& job, bool fetch_stats) {
  ProcessGroup helpers;
  std::set<std::string> seen;
  const std::string& sched = job.placement.nodes.front().destination;
  for (const auto& n : job.placement.nodes) {
    if (!seen.insert(n.destination).second) continue;
    const bool fetch = fetch_stats && n.destination == sched;
    ChildSpec spec = SshSpec(job, "cleanup on " + n.destination, n.destination,
                             RemoteCleanupCommand(job.placement.remote_dir,
                                                  fetch ? std::vector<std::string>{kSshStatsFile}
                                                        : std::vector<std::string>{}),
                             LogFile(job, "cleanup"));
    if (fetch) spec.stdout_file = job.job_dir + "/" + kSshStatsFile;
    RETURN_IF_ERROR(helpers.Start(spec).status());
  }
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  Status result;
  while (helpers.running() > 0 && Clock::now() < deadline) {
    auto exit = helpers.WaitAny(std::chrono::milliseconds(50));
    if (exit && exit->exit_code != 0 && result.ok()) result = DescribeExit(*exit);
  }
  if (helpers.running() > 0 && result.ok()) result = DeadlineExceeded("cleanup did not finish within 20 s");
  return result;
}

// Stops every node: closing the ssh channels makes each remote wrapper kill
// its daemon; the cleanup pass then kills anything a pid file still names.
void StopNodes(const Job& job, ProcessGroup& group) {
  group.CloseAllStdin();
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (group.running() > 0 && Clock::now() < deadline) group.WaitAny(std::chrono::milliseconds(50));
  Status st = CleanUpHosts(job, /*fetch_stats=*/false);
  if (!st.ok()) std::fprintf(stderr, "embedps ssh: warning: %s\n", st.message().c_str());
  group.TerminateAll(std::chrono::milliseconds(0));
}

StatusOr<nlohmann::json> ReadStats(const Job& job) {
  const std::string local = job.job_dir + "/" + kSshStatsFile;
  std::ifstream in(local);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return DataLoss("no valid job statistics came back from the scheduler's host (" + local + ")");
  }
  return j;
}

Status WriteSummary(const Job& job, nlohmann::json summary, double wall_seconds) {
  summary["job_dir"] = job.job_dir;
  summary["wall_seconds"] = wall_seconds;
  for (const auto& n : job.placement.nodes) {
    nlohmann::json node = {{"name", n.name}, {"host", n.host}, {"log", LogFile(job, n.name)}};
    if (n.role != "worker") node["port"] = n.port;
    if (n.http_port >= 0) node["metrics_url"] = "http://" + n.host + ":" + std::to_string(n.http_port) + "/metrics";
    summary["nodes"].push_back(node);
  }
  const std::string& path = job.options->summary_json;
  std::ofstream out(path);
  out << summary.dump(2) << "\n";
  if (!out) return Unavailable("cannot write " + path);
  std::printf("embedps: summary written to %s\n", path.c_str());
  return Status::OK();
}

// CURVE is on by default across hosts: checks, on this machine, that the key
// directory holds the cluster keys and one key per node, bound to the
// node's role (or to any role), so a job does not fail on its hosts later.
Status CheckKeys(const SshOptions& o, const std::vector<PlannedNode>& nodes) {
  if (o.insecure) {
    if (!o.curve_dir.empty()) return InvalidArgument("--insecure and --curve_dir exclude each other");
    std::fprintf(stderr,
                 "embedps ssh: WARNING: --insecure: CURVE is off; traffic between the hosts is "
                 "unencrypted and any machine that reaches the ports can join the job\n");
    return Status::OK();
  }
  if (o.curve_dir.empty()) {
    return InvalidArgument(
        "CURVE is on by default for multi-host jobs: give --curve_dir=DIR, a key directory from "
        "`embedps keygen --out DIR --servers S --workers W` at the same path on every host, or "
        "--insecure to run without CURVE");
  }
  ASSIGN_OR_RETURN(security::CurveConfig binding, security::LoadCurveConfig(o.curve_dir, "", true));
  for (const auto& n : nodes) {
    if (n.role == "scheduler") continue;
    RETURN_IF_ERROR(security::LoadCurveConfig(o.curve_dir, n.name, false).status());
    const security::AllowList::Entry* e = binding.allowed->FindName(n.name);
    if (e == nullptr) {
      return InvalidArgument(o.curve_dir + "/" + security::kAllowListFile + " does not admit " + n.name);
    }
    if (e->role != security::KeyRole::kAny && n.role != security::KeyRoleName(e->role)) {
      return InvalidArgument("the key " + n.name + " in " + o.curve_dir + " admits a " +
                             security::KeyRoleName(e->role) + ", not a " + n.role);
    }
  }
  std::printf("embedps: CURVE is on: keys from %s\n", o.curve_dir.c_str());
  return Status::OK();
}

Status Validate(const SshOptions& o) {
  if (o.hostfile.empty()) return InvalidArgument("--hostfile is required");
  if (o.job.data.train.empty()) return InvalidArgument("--train is required (a path valid on every worker's host)");
  if (o.remote_bin_dir.empty()) return InvalidArgument("--remote_bin_dir is required");
  if (o.bind_host.empty()) return InvalidArgument("--bind_host must not be empty");
  if (!o.job.data.test.empty() && o.job.model_dir.empty()) {
    return InvalidArgument("--test needs --model_dir (a directory this machine sees, e.g. shared storage)");
  }
  return ValidateJobSettings(o.job);
}

// With --test: completes the export in --model_dir (model.json, and the
// training interactions for rating data) and evaluates it on this machine.
Status EvaluateOnTest(const Job& job, nlohmann::json* summary) {
  const JobSettings& o = job.options->job;
  const JobModel& m = job.model;
  if (!std::filesystem::is_directory(o.model_dir)) {
    return NotFound("--test: the model directory " + o.model_dir +
                    " is not on this machine (it is written on the servers' hosts; use shared storage)");
  }
  RETURN_IF_ERROR(WriteModelInfoWithSideFiles(o.model_dir, ModelInfo(m, *summary)));
  RETURN_IF_ERROR(WriteExportInteractions(o.model_dir, o.data.train, m.format, o.data.max_bad_line_fraction));
  std::printf("embedps: evaluating on %s\n", o.data.test.c_str());
  std::fflush(stdout);
  ASSIGN_OR_RETURN(const std::string metrics,
                   EvaluateExport({o.model_dir, o.data.test, m.format, m.side.get(), o.data.max_bad_line_fraction},
                                  summary));
  (*summary)["model"] = m.spec.model;
  (*summary)["model_dir"] = o.model_dir;
  std::printf("embedps: %s on %llu rows\n", metrics.c_str(),
              static_cast<unsigned long long>(summary->value("test_rows", uint64_t{0})));
  return Status::OK();
}

}  // namespace

Status RunSsh(const SshOptions& options) {
  SshOptions o = options;
  o.job = SshJobSettings(o.job);
  RETURN_IF_ERROR(Validate(o));
  Job job;
  job.options = &o;
  ASSIGN_OR_RETURN(auto entries, ReadHostfile(o.hostfile));
  ASSIGN_OR_RETURN(job.placement.nodes, PlanNodes(entries, o.ports));
  ASSIGN_OR_RETURN(job.model, PrepareModel(o.job));
  RETURN_IF_ERROR(CheckKeys(o, job.placement.nodes));
  for (const auto& n : job.placement.nodes) {
    if (n.role == "server") ++job.servers;
    if (n.role == "worker") ++job.workers;
  }
  ASSIGN_OR_RETURN(job.ssh, FindInPath(o.ssh));
  ASSIGN_OR_RETURN(job.job_dir, MakeJobDir(o.job_dir, "embedps-ssh"));
  job.placement.token = NewJobId();
  job.placement.remote_dir = o.remote_dir.empty() ? "/tmp/embedps-" + job.placement.token : o.remote_dir;
  InstallInterruptHandler();
  PrintPlan(job);
  const auto start = Clock::now();
  ProcessGroup group;
  Status st = StartNodes(job, group);
  if (st.ok()) st = SuperviseNodes(job, group);
  if (!st.ok()) {
    StopNodes(job, group);
    return st;
  }
  Status cleanup = CleanUpHosts(job, /*fetch_stats=*/true);
  if (!cleanup.ok()) std::fprintf(stderr, "embedps ssh: warning: %s\n", cleanup.message().c_str());
  ASSIGN_OR_RETURN(nlohmann::json stats, ReadStats(job));
  std::printf("embedps: job finished; statistics in %s/%s\n", job.job_dir.c_str(), kSshStatsFile);
  if (!o.job.data.test.empty()) RETURN_IF_ERROR(EvaluateOnTest(job, &stats));
  if (!o.summary_json.empty()) {
    RETURN_IF_ERROR(WriteSummary(job, stats, std::chrono::duration<double>(Clock::now() - start).count()));
  }
  std::fflush(stdout);
  return Status::OK();
}

StatusOr<std::vector<std::string>> JobNodeFlags(const JobSettings& settings, const std::string& role_name) {
  ASSIGN_OR_RETURN(const Role role, ParseRole(role_name));
  const JobSettings job = SshJobSettings(settings);
  RETURN_IF_ERROR(ValidateJobSettings(job));
  ASSIGN_OR_RETURN(const JobModel model, PrepareModel(job));
  return JobDaemonFlags(job, model, role);
}

}  // namespace embedps::launch
