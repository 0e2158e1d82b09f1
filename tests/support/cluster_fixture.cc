#include "tests/support/cluster_fixture.h"

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"

namespace embedps::testing {

ProcessCluster::ProcessCluster(const ClusterSpec& spec) : spec_(spec) {}

Status ProcessCluster::Start() {
  const std::string train = dir_.File("train.tsv");
  {
    std::ofstream out(train);
    for (int i = 0; i < 3; ++i) {
      out << (i % 2);
      for (int f = 0; f < 39; ++f) out << '\t' << (f < 13 ? std::to_string(i + f) : "abcdef0" + std::to_string(i));
      out << '\n';
    }
  }
  const std::string endpoint_file = dir_.File("scheduler.endpoint");
  launch::ChildSpec sched{"scheduler", BinDir() + "/embedps-scheduler",
                          {"--cluster_token=" + spec_.token, "--endpoint_file=" + endpoint_file,
                           "--num_servers=" + std::to_string(spec_.servers),
                           "--num_workers=" + std::to_string(spec_.workers), "--train=" + train,
                           "--model_dir=" + model_dir()},
                          dir_.File("scheduler.log")};
  sched.args.insert(sched.args.end(), spec_.scheduler_flags.begin(), spec_.scheduler_flags.end());
  if (!spec_.curve_dir.empty()) sched.args.push_back("--curve_dir=" + spec_.curve_dir);
  RETURN_IF_ERROR(group_.Start(sched).status());
  for (int i = 0; i < 300 && endpoint_.empty(); ++i) {
    std::ifstream in(endpoint_file);
    in >> endpoint_;
    if (endpoint_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (endpoint_.empty()) return DeadlineExceeded("scheduler did not publish its endpoint");
  for (int s = 0; s < spec_.servers + spec_.standby_servers; ++s) {
    // Admission is in arrival order: the standbys come last.
    if (s == spec_.servers) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    launch::ChildSpec server{"server-" + std::to_string(s), BinDir() + "/embedps-server",
                             {"--cluster_token=" + spec_.token, "--scheduler=" + endpoint_},
                             dir_.File("server-" + std::to_string(s) + ".log")};
    server.args.insert(server.args.end(), spec_.server_flags.begin(), spec_.server_flags.end());
    if (!spec_.curve_dir.empty()) {
      server.args.push_back("--curve_dir=" + spec_.curve_dir);
      server.args.push_back("--curve_key=server-" + std::to_string(s));
    }
    ASSIGN_OR_RETURN(pid_t pid, group_.Start(server));
    server_pids_.push_back(pid);
  }
  return Status::OK();
}

Status ProcessCluster::AwaitExit(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout * TimeoutScale();
  while (group_.running() > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return DeadlineExceeded("processes still running after the deadline");
    auto exit = group_.WaitAny(left);
    if (exit && exit->exit_code != 0) {
      return Internal(exit->name + " exited with " + std::to_string(exit->exit_code) + ": " +
                      ReadFile(exit->log_file));
    }
  }
  return Status::OK();
}

std::unique_ptr<SchedulerLink> MakeWorkerLink(zmq::context_t& ctx, const std::string& endpoint,
                                              const std::string& token,
                                              const security::CurveConfig& curve) {
  SchedulerLinkOptions o;
  o.curve = curve;
  o.scheduler_endpoint = endpoint;
  o.cluster_id = ClusterIdFromToken(token);
  o.role = wire::Role::kWorker;
  o.join_timeout = std::chrono::milliseconds(20000);
  return std::make_unique<SchedulerLink>(ctx, o);
}

Status FinishAsWorker(SchedulerLink& link) {
  int64_t finished = -1;
  for (int i = 0; i < 100; ++i) {
    ASSIGN_OR_RETURN(wire::Message reply,
                     link.Call(wire::PartitionRequestMsg{finished, {}}, std::chrono::seconds(5)));
    const auto* grant = std::get_if<wire::PartitionGrantMsg>(&reply.body);
    if (grant == nullptr) return Internal("scheduler answered a partition request oddly");
    if (!grant->has_partition) break;
    finished = grant->partition.id;
  }
  RETURN_IF_ERROR(link.Send(wire::WorkerDoneMsg{}).status());
  for (int i = 0; i < 400; ++i) {
    RETURN_IF_ERROR(link.Tick({}));
    while (auto ev = link.NextEvent()) {
      if (std::holds_alternative<wire::ShutdownMsg>(ev->body)) return Status::OK();
      // With checkpoints the scheduler pauses every worker for the final cut.
      if (const auto* pause = std::get_if<wire::PauseTrainingMsg>(&ev->body)) {
        RETURN_IF_ERROR(link.Send(wire::PausedMsg{pause->checkpoint_id, {}}).status());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return DeadlineExceeded("no shutdown from the scheduler within 20 s");
}

std::unique_ptr<worker::PsClient> ConnectClient(zmq::context_t& ctx, const SchedulerLink& link,
                                                const security::CurveConfig& curve) {
  worker::PsClientOptions o;
  o.curve = curve;
  o.cluster_id = link.header().cluster_id;
  o.node_id = link.node_id();
  o.timeout = std::chrono::milliseconds(10000);
  auto client = std::make_unique<worker::PsClient>(ctx, o);
  Status st = client->Connect(link.shard_map());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return client;
}

}  // namespace embedps::testing
