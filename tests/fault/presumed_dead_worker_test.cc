// A worker that went silent past --node_timeout_ms is presumed dead and its
// lease is requeued. If it was only stalled and speaks again, the scheduler
// answers "register again" rather than serving it: a worker still counted
// dead would take new leases that no death check covers any more, and a
// real death later would leave them held forever.
#include <gtest/gtest.h>

#include <thread>

#include "common/scheduler_link.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(PresumedDeadWorkerTest, AStalledWorkerRegistersAgainInsteadOfTrainingOnUnwatched) {
  testing::ScratchDir checkpoints;
  testing::ClusterSpec spec;
  spec.servers = 1;
  spec.workers = 1;
  spec.scheduler_flags = {"--node_timeout_ms=" + std::to_string(2000 * testing::TimeoutScale()),
                          "--checkpoint_dir=" + checkpoints.path()};
  spec.server_flags = {"--heartbeat_interval_ms=200"};
  testing::ProcessCluster cluster(spec);
  ASSERT_TRUE(cluster.Start().ok());
  zmq::context_t ctx;
  auto link = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), spec.token);
  ASSERT_TRUE(link->Join().ok());
  auto reply = link->Call(wire::PartitionRequestMsg{-1, {}}, seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(std::get<wire::PartitionGrantMsg>(reply->body).has_partition);
  const uint32_t first_id = link->node_id();

  // Stalled past the timeout (no heartbeat): presumed dead.
  std::this_thread::sleep_for(milliseconds(3500 * testing::TimeoutScale()));
  Status st;
  const auto deadline = Clock::now() + seconds(5 * testing::TimeoutScale());
  while (!link->rejoin_needed() && Clock::now() < deadline) {
    st = link->Tick({});
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(link->rejoin_needed()) << "the scheduler went on serving a worker it counts as dead";
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();

  // Registered again it is a new worker, and the job ends normally.
  ASSERT_TRUE(link->Rejoin(/*has_state=*/false).ok());
  EXPECT_NE(link->node_id(), first_id);
  Status finished = testing::FinishAsWorker(*link);
  ASSERT_TRUE(finished.ok()) << finished.ToString() << "\n"
                             << testing::ReadFile(cluster.dir().File("scheduler.log"));
  Status exited = cluster.AwaitExit(seconds(30));
  EXPECT_TRUE(exited.ok()) << exited.ToString();
  const std::string log = testing::ReadFile(cluster.dir().File("scheduler.log"));
  EXPECT_NE(log.find("presumed dead"), std::string::npos) << log;
}

}  // namespace
}  // namespace embedps
