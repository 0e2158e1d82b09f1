// Barriers run by the real scheduler: nobody passes until every worker has
// arrived, and then everybody does.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/scheduler_link.h"
#include "tests/support/cluster_fixture.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

TEST(BarrierTest, ReleasesOnlyWhenAllWorkersArrive) {
  testing::ClusterSpec spec;
  spec.token = "barrier-test";
  spec.servers = 1;
  spec.workers = 2;
  testing::ProcessCluster cluster(spec);
  ASSERT_TRUE(cluster.Start().ok());

  zmq::context_t ctx(1);
  auto first = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), spec.token);
  auto second = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), spec.token);
  // Both must join before the shard map (and so Join's return) comes.
  std::thread join_first([&] { ASSERT_TRUE(first->Join().ok()); });
  ASSERT_TRUE(second->Join().ok());
  join_first.join();

  std::atomic<bool> first_released{false};
  Status first_status;
  std::thread waiter([&] {
    auto reply = first->Call(wire::BarrierMsg{"pass-0"}, milliseconds(10000));
    first_status = reply.status();
    if (reply.ok()) {
      EXPECT_EQ(std::get<wire::BarrierReplyMsg>(reply->body).name, "pass-0");
    }
    first_released = true;
  });
  // Alone at the barrier, the first worker must wait.
  std::this_thread::sleep_for(milliseconds(700));
  EXPECT_FALSE(first_released.load());
  auto reply = second->Call(wire::BarrierMsg{"pass-0"}, milliseconds(10000));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  waiter.join();
  EXPECT_TRUE(first_released.load());
  EXPECT_TRUE(first_status.ok()) << first_status.ToString();
  // Processes are killed by the cluster's destructor; this test ends the job early.
}

}  // namespace
}  // namespace embedps
