// --replicas=2: kill -9 a server while a worker (this test) pushes known
// gradients. Every push acknowledged before, during and after the failover
// must be in the final rows exactly once: with SGD at learning rate 1 from
// zero rows, each value must equal minus the sum of its gradients, exactly
// (integer gradients, so float sums are exact). The replacement takes the
// dead server's rows from its backup's copy, not from a checkpoint.
//
// The control run, with one copy and no checkpoint, shows the test can
// fail: the dead server's acknowledged pushes are gone.
#include <gtest/gtest.h>

#include <signal.h>

#include <random>
#include <unordered_map>

#include "common/hash.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/exact_batch.h"
#include "tests/support/subprocess.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

constexpr char kToken[] = "replication-test";
constexpr uint32_t kKeys = 3000;
constexpr int kSteps = 900;
constexpr int kKillAtStep = 250;

uint64_t KeyOf(uint32_t index) { return Mix64(index + 7); }

struct RunResult {
  Status status;
  size_t mismatches = 0;
  uint64_t acknowledged_pushes = 0;
  uint64_t unavailable_answers = 0;
  int maps_received = 0;
  std::string scheduler_log;
  std::string logs;
};

// A job of `servers` servers and a standby; pushes kSteps batches, kills
// the server started `victim`-th at kKillAtStep, then compares every row
// with the pushes' sums.
RunResult RunWithKill(int replicas, int servers = 2, int victim = 0) {
  RunResult result;
  testing::ClusterSpec spec;
  spec.token = kToken;
  spec.servers = servers;
  spec.standby_servers = 1;
  spec.workers = 1;
  testing::ScratchDir ckpt;
  spec.scheduler_flags = {"--replicas=" + std::to_string(replicas), "--checkpoint_dir=" + ckpt.path(),
                          "--checkpoint_interval_s=0", "--checkpoint_each_pass=false", "--node_timeout_ms=2500"};
  spec.server_flags = {"--optimizer=sgd", "--learning_rate=1", "--init=zeros", "--server_threads=2"};
  testing::ProcessCluster cluster(spec);
  Status st = cluster.Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return result;

  zmq::context_t ctx(1);
  auto link = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), kToken);
  st = link->Join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return result;

  worker::PsClientOptions o;
  o.cluster_id = link->header().cluster_id;
  o.node_id = link->node_id();
  o.timeout = milliseconds(30000);
  o.retry_interval = milliseconds(1000);
  o.max_inflight_pushes = 8;
  std::unique_ptr<worker::PsClient> client;
  // Heartbeats and new shard maps while waiting on the servers, as a worker.
  auto idle = [&]() -> Status {
    RETURN_IF_ERROR(link->Tick({}));
    while (auto ev = link->NextEvent()) {
      if (std::holds_alternative<wire::ShardMapMsg>(ev->body)) {
        ++result.maps_received;
        RETURN_IF_ERROR(client->UpdateMap(link->shard_map()));
      }
    }
    return Status::OK();
  };
  o.on_idle = idle;
  client = std::make_unique<worker::PsClient>(ctx, o);
  st = client->Connect(link->shard_map());
  EXPECT_TRUE(st.ok()) << st.ToString();

  std::unordered_map<uint64_t, int64_t> sums;
  std::mt19937_64 rng(5);
  for (int step = 0; st.ok() && step < kSteps; ++step) {
    if (step == kKillAtStep) {
      EXPECT_EQ(kill(cluster.server_pids()[victim], SIGKILL), 0);
    }
    const auto batch = testing::MakeExactBatch(rng, 100, 200, kKeys, step, 1.0f, KeyOf);
    for (size_t j = 0; j < batch.keys.size(); ++j) sums[batch.keys[j]] += batch.units[j];
    st = client->Push(0, 1, batch.keys, batch.grads);
    if (st.ok()) st = idle();
  }
  if (st.ok()) st = client->Flush();
  result.acknowledged_pushes = static_cast<uint64_t>(kSteps);
  result.unavailable_answers = client->unavailable_answers();

  std::vector<uint64_t> keys;
  for (uint32_t k = 0; k < kKeys; ++k) keys.push_back(KeyOf(k));
  std::vector<float> values;
  if (st.ok()) st = client->Pull(0, 1, keys, &values);
  result.status = st;
  for (size_t i = 0; st.ok() && i < keys.size(); ++i) {
    result.mismatches += values[i] != static_cast<float>(-sums[keys[i]]);
  }
  cluster.group().TerminateAll(milliseconds(2000));
  result.scheduler_log = testing::ReadFile(cluster.dir().File("scheduler.log"));
  for (int s = 0; s <= servers; ++s) {
    const std::string name = "server-" + std::to_string(s);
    result.logs += "---- " + name + "\n" + testing::ReadFile(cluster.dir().File(name + ".log"));
  }
  return result;
}

TEST(ReplicationTest, AcknowledgedPushesSurviveAServerKillExactly) {
  const RunResult r = RunWithKill(/*replicas=*/2);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString() << "\n" << r.scheduler_log << r.logs;
  EXPECT_EQ(r.mismatches, 0u) << "rows differ from the sum of the acknowledged pushes\n"
                              << r.scheduler_log << r.logs;
  EXPECT_GE(r.maps_received, 1) << "the worker never learned of the replacement";
  EXPECT_NE(r.scheduler_log.find("restores from its neighbours' handoff"), std::string::npos) << r.scheduler_log;
  EXPECT_NE(r.scheduler_log.find("is back (shard map epoch"), std::string::npos) << r.scheduler_log;
  EXPECT_NE(r.logs.find("took over the applied request ids"), std::string::npos) << r.logs;
  LOG(INFO) << "pushes asked to be sent again while the backup was replaced: " << r.unavailable_answers;
}

TEST(ReplicationTest, ThreeServersNeighboursOnBothSidesHandOver) {
  // The dead server's backup and the server it backed up are now two
  // different servers; each writes its part of the handoff.
  const RunResult r = RunWithKill(/*replicas=*/2, /*servers=*/3, /*victim=*/1);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString() << "\n" << r.scheduler_log << r.logs;
  EXPECT_EQ(r.mismatches, 0u) << r.scheduler_log << r.logs;
  EXPECT_NE(r.scheduler_log.find("restores from its neighbours' handoff"), std::string::npos) << r.scheduler_log;
  EXPECT_NE(r.logs.find("writing our copy of its rows to"), std::string::npos) << r.logs;
  EXPECT_NE(r.logs.find("writing our own rows to"), std::string::npos) << r.logs;
}

TEST(ReplicationTest, WithoutReplicasTheDeadServersPushesAreLost) {
  // No checkpoint was taken, so the replacement starts from initial rows.
  const RunResult r = RunWithKill(/*replicas=*/1);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString() << "\n" << r.scheduler_log << r.logs;
  EXPECT_GT(r.mismatches, 100u) << "the control run should lose the dead server's updates";
  EXPECT_EQ(r.scheduler_log.find("handoff"), std::string::npos) << r.scheduler_log;
}

}  // namespace
}  // namespace embedps
