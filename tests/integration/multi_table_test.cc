// Several tables in real server processes: each keeps its own dimension,
// optimizer and initializer, and a request for one table never touches
// another.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/scheduler_link.h"
#include "tests/support/cluster_fixture.h"
#include "worker/ps_client.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

TEST(MultiTableTest, TablesKeepTheirOwnDimsAndOptimizers) {
  testing::ClusterSpec spec;
  spec.token = "multi-table";
  spec.server_flags = {"--tables=name=emb dim=8 optimizer=sgd lr=1 init=zeros; "
                       "name=wide dim=1 optimizer=ftrl lr=0.5 l1=10 init=zeros; "
                       "name=big dim=64 optimizer=adagrad init=normal init_scale=0.1",
                       "--server_threads=2"};
  testing::ProcessCluster cluster(spec);
  ASSERT_TRUE(cluster.Start().ok());
  zmq::context_t ctx(1);
  auto link = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), spec.token);
  ASSERT_TRUE(link->Join().ok());
  auto client_ptr = testing::ConnectClient(ctx, *link);
  worker::PsClient& client = *client_ptr;

  std::mt19937_64 rng(3);
  std::vector<uint64_t> keys(500);
  for (auto& k : keys) k = rng();
  // The same keys in every table: tables are namespaces.
  ASSERT_TRUE(client.Push(0, 8, keys, std::vector<float>(keys.size() * 8, 0.5f)).ok());
  ASSERT_TRUE(client.Push(1, 1, keys, std::vector<float>(keys.size(), 1.0f)).ok());
  ASSERT_TRUE(client.Flush().ok());

  std::vector<float> emb, wide, big;
  ASSERT_TRUE(client.Pull(0, 8, keys, &emb).ok());
  ASSERT_TRUE(client.Pull(1, 1, keys, &wide).ok());
  ASSERT_TRUE(client.Pull(2, 64, keys, &big).ok());
  for (float v : emb) ASSERT_EQ(v, -0.5f);  // SGD, lr 1
  // FTRL with l1 = 10 keeps |z| = 1 under the threshold: exact zeros.
  for (float v : wide) ASSERT_EQ(v, 0.0f);
  // Untouched normal-initialized rows: spread about 0.1, not all equal.
  double sum_sq = 0;
  for (float v : big) sum_sq += v * v;
  EXPECT_NEAR(std::sqrt(sum_sq / big.size()), 0.1, 0.01);

  // A dimension that belongs to another table is refused.
  Status st = client.Pull(0, 64, keys, &big);
  EXPECT_FALSE(st.ok());
  ASSERT_TRUE(client.Push(1, 8, keys, std::vector<float>(keys.size() * 8, 1.0f)).ok());
  st = client.Flush();
  EXPECT_NE(st.message().find("dim_mismatch"), std::string::npos) << st.ToString();
  // Table 0 is unchanged by all of that.
  ASSERT_TRUE(client.Pull(0, 8, keys, &emb).ok());
  for (float v : emb) ASSERT_EQ(v, -0.5f);
}

}  // namespace
}  // namespace embedps
