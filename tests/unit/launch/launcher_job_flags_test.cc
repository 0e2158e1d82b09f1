// `embedps local` and `embedps ssh` give every daemon the same job flags for
// the same job: stripped of each launcher's placement flags, their command
// lines are the job's flags (launch/job_settings.h) and then the
// pass-through flags.
#include <gflags/gflags.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "launch/job_settings.h"
#include "launch/local_args.h"
#include "launch/ssh_args.h"

namespace embedps::launch {
namespace {

using Flags = std::vector<std::string>;

std::string FlagName(const std::string& arg) {
  const size_t end = arg.find('=');
  return arg.substr(2, end == std::string::npos ? std::string::npos : end - 2);
}

Flags Without(const Flags& args, const std::set<std::string>& placement) {
  Flags out;
  for (const auto& a : args) {
    if (placement.count(FlagName(a)) == 0) out.push_back(a);
  }
  return out;
}

// Where each launcher's nodes listen, find each other and write files.
const std::set<std::string> kLocalPlacement = {
    "cluster_token", "curve_dir",  "curve_key",      "http_port",  "http_bind", "http_url_file", "endpoint_file",
    "num_servers",   "num_workers", "shuffle_seed",  "stats_json", "job_name",  "scheduler"};
const std::set<std::string> kSshPlacement = {"cluster_token", "bind",       "num_servers", "num_workers",
                                             "stats_json",    "scheduler",  "advertise_host", "http_port",
                                             "http_bind",     "curve_dir",  "curve_key"};

JobSettings Job() {
  JobSettings job;
  job.data = {"/shared/train.tsv", "/shared/test.tsv", "criteo", 0.05};
  job.training = {2, 300, 0, 2, 3, 4};
  job.optimizers = {"rowwise_adagrad", 0.2, 0.02, "adam", 0.003};
  job.eval = {30, 0, 100};
  job.checkpoints = {"/shared/ckpt", 20u, "auto"};
  job.model_dir = "/shared/model";
  job.replicas = 2;
  job.model_flags = {"--model=fm", "--factors=8"};
  return job;
}

JobModel Fm() {
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("model", "fm");
  gflags::SetCommandLineOption("factors", "8");
  auto model = BuildJobModel(data::Format::kCriteo);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

ExtraFlags Extra() {
  ExtraFlags extra;
  extra.node = {"--heartbeat_interval_ms=300"};
  extra.scheduler = {"--partitions_per_worker=3"};
  extra.server = {"--server_threads=2"};
  extra.worker = {"--request_timeout_ms=9000"};
  return extra;
}

TEST(LauncherJobFlagsTest, LocalAndSshGiveEveryRoleTheSameJobFlags) {
  const JobModel model = Fm();
  LocalOptions local;
  local.job = Job();
  local.extra = Extra();
  local.curve = true;
  const LocalPlacement lp{"/tmp/run", "/tmp/run/keys", "local-token", "tcp://127.0.0.1:4000"};

  SshOptions ssh;
  ssh.job = Job();
  ssh.extra = Extra();
  ssh.remote_bin_dir = "/opt/embedps";
  ssh.curve_dir = "/shared/keys";
  SshPlacement sp;
  sp.token = "ssh-token";
  sp.remote_dir = "/tmp/remote";
  for (const char* role : {"scheduler", "server", "worker"}) {
    PlannedNode n;
    n.role = role;
    n.name = n.role == "scheduler" ? n.role : n.role + "-0";
    n.host = "host-" + n.name;
    n.port = 29500;
    n.http_port = 9100;
    sp.nodes.push_back(n);
  }

  for (const PlannedNode& n : sp.nodes) {
    SCOPED_TRACE(n.name);
    const Role role = ParseRole(n.role).value();
    Flags ssh_args = SshNodeArgs(ssh, model, sp, n);
    EXPECT_EQ(ssh_args.front(), "/opt/embedps/embedps-" + n.role);
    ssh_args.erase(ssh_args.begin());
    const Flags local_job = Without(LocalChildArgs(local, model, lp, role, n.name), kLocalPlacement);
    const Flags ssh_job = Without(ssh_args, kSshPlacement);
    EXPECT_EQ(local_job, ssh_job);
    // Nothing but the job's flags and, last, the pass-through flags.
    Flags expected = JobDaemonFlags(Job(), model, role);
    const Flags extra = Extra().For(n.role);
    expected.insert(expected.end(), extra.begin(), extra.end());
    EXPECT_EQ(local_job, expected);
  }
}

// ssh (and so `embedps node-flags`) runs a checkpointed job's scheduler with
// --resume=auto, so the one it starts again resumes.
TEST(LauncherJobFlagsTest, SshResumesWhereItCheckpoints) {
  JobSettings job = Job();
  job.checkpoints.resume = "/elsewhere";
  EXPECT_EQ(SshJobSettings(job).checkpoints.resume, "auto");
  job.checkpoints.dir.clear();
  EXPECT_EQ(SshJobSettings(job).checkpoints.resume, "");
}

}  // namespace
}  // namespace embedps::launch
