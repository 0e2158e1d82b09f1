// Several tables in real server processes: each keeps its own dimension,
// optimizer and initializer, and a request for one table never touches
// another.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "common/scheduler_link.h"
#include "tests/support/cluster_fixture.h"
#include "worker/ps_client.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

// One scheduler and the servers of `spec`, and a worker joined to them.
struct JoinedWorker {
  explicit JoinedWorker(const testing::ClusterSpec& spec) : cluster(spec) {}
  // Starts the cluster, joins and connects; false (with a gtest failure) on
  // any error.
  bool Start(const std::string& token) {
    EXPECT_TRUE(cluster.Start().ok());
    link = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), token);
    const Status joined = link->Join();
    EXPECT_TRUE(joined.ok()) << joined.ToString();
    if (!joined.ok()) return false;
    client = testing::ConnectClient(ctx, *link);
    return client != nullptr;
  }

  testing::ProcessCluster cluster;
  zmq::context_t ctx{1};
  std::unique_ptr<SchedulerLink> link;
  std::unique_ptr<worker::PsClient> client;
};

TEST(MultiTableTest, TablesKeepTheirOwnDimsAndOptimizers) {
  testing::ClusterSpec spec;
  spec.token = "multi-table";
  spec.server_flags = {"--tables=name=emb dim=8 optimizer=sgd lr=1 init=zeros; "
                       "name=wide dim=1 optimizer=ftrl lr=0.5 l1=10 init=zeros; "
                       "name=big dim=64 optimizer=adagrad init=normal init_scale=0.1",
                       "--server_threads=2"};
  JoinedWorker w(spec);
  ASSERT_TRUE(w.Start(spec.token));
  worker::PsClient& client = *w.client;

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

// evict_after_seconds in a real server: rows left alone for the horizon are
// dropped by the server's own eviction passes, rows still read (pulls only)
// stay, and a table without the setting keeps everything.
TEST(MultiTableTest, WallClockExpiryDropsOnlyRowsLeftAlone) {
  testing::ClusterSpec spec;
  spec.token = "wall-clock-expiry";
  spec.server_flags = {"--tables=name=stream dim=4 optimizer=sgd lr=1 init=zeros evict_after_seconds=2; "
                       "name=kept dim=4 optimizer=sgd lr=1 init=zeros"};
  JoinedWorker w(spec);
  ASSERT_TRUE(w.Start(spec.token));
  worker::PsClient& client = *w.client;

  std::vector<uint64_t> hot, cold;
  for (uint64_t k = 1; k <= 200; ++k) (k % 2 ? hot : cold).push_back(k * 0x9e3779b97f4a7c15ULL);
  std::vector<uint64_t> all = hot;
  all.insert(all.end(), cold.begin(), cold.end());
  const std::vector<float> half(all.size() * 4, 0.5f);
  ASSERT_TRUE(client.Push(0, 4, all, half).ok());
  ASSERT_TRUE(client.Push(1, 4, all, half).ok());
  ASSERT_TRUE(client.Flush().ok());
  // Passes run once a second: a row left alone from the push on is gone
  // within the 2 s horizon plus about two passes. The hot half is read all
  // along, 6 s in all.
  std::vector<float> rows;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(w.link->Tick(wire::Progress{}).ok());  // heartbeats: the worker is alive
    const Status pulled = client.Pull(0, 4, hot, &rows);
    ASSERT_TRUE(pulled.ok()) << pulled.ToString();
    for (float v : rows) ASSERT_EQ(v, -0.5f) << "a row read every 200 ms was evicted";
    std::this_thread::sleep_for(milliseconds(200));
  }
  // Evicted rows come back as new ones: the initializer's zeros.
  ASSERT_TRUE(client.Pull(0, 4, cold, &rows).ok());
  for (float v : rows) ASSERT_EQ(v, 0.0f) << "a row untouched for 6 s outlived a 2 s horizon";
  ASSERT_TRUE(client.Pull(1, 4, all, &rows).ok());
  for (float v : rows) ASSERT_EQ(v, -0.5f) << "the table without expiry lost a row";
}

}  // namespace
}  // namespace embedps
