// Soak under faults: four workers (threads of this test) push, push+pull and
// pull for a fixed time against two real servers, through fault-injecting
// proxies that drop, delay, duplicate and reorder messages both ways. The
// clients retry on timeout with the same request id and the servers must
// apply each push exactly once: with SGD at learning rate 1 from zero rows,
// every final value must equal minus the sum of the acknowledged gradients,
// exactly (gradients are multiples of 1/4, so float sums are exact).
//
// EMBEDPS_SOAK_SECONDS sets the duration (default 10).
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <unordered_map>

#include "common/hash.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/exact_batch.h"
#include "common/security/socket_security.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/subprocess.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr char kToken[] = "soak-test";
constexpr int kServers = 2;
constexpr int kWorkers = 4;
constexpr uint32_t kKeySpace = 4096;  // shared by all workers, so they collide

double SoakSeconds() {
  const char* env = std::getenv("EMBEDPS_SOAK_SECONDS");
  const double s = env != nullptr ? std::atof(env) : 0;
  return s > 0 ? s : 10;
}

uint64_t KeyOf(uint32_t index) { return Mix64(index + 1); }

struct Tally {
  Status status;
  uint64_t requests = 0;
  uint64_t retries = 0;
  uint64_t pushes = 0, push_pulls = 0, pulls = 0;
  std::unordered_map<uint64_t, double> gradient_sum;  // acknowledged, by key
};

// One worker's traffic until `end`: a mix of pushes, push+pulls and pulls of
// 32..256 keys from the shared key space.
Tally RunWorker(int index, uint64_t cluster_id, uint32_t node_id, const ShardMap& proxied,
                Clock::time_point end) {
  Tally t;
  zmq::context_t ctx(1);
  worker::PsClientOptions o;
  o.cluster_id = cluster_id;
  o.node_id = node_id;
  o.timeout = milliseconds(20000);
  o.retry_interval = milliseconds(150);
  o.max_inflight_pushes = 8;
  worker::PsClient client(ctx, o);
  t.status = client.Connect(proxied);
  std::mt19937_64 rng(1000 + index);
  std::vector<float> values;
  for (uint64_t step = 0; t.status.ok() && Clock::now() < end; ++step) {
    const auto batch = testing::MakeExactBatch(rng, 32, 225, kKeySpace, step + index, 0.25f, KeyOf);
    const std::vector<uint64_t>& keys = batch.keys;
    const std::vector<float>& grads = batch.grads;
    const int op = static_cast<int>(step % 4);
    if (op <= 1) {
      t.status = client.Push(0, 1, keys, grads);
      ++t.pushes;
    } else if (op == 2) {
      auto ticket = client.StartPushPull(0, 1, keys, grads, &values);
      t.status = ticket.ok() ? client.Wait(*ticket) : ticket.status();
      ++t.push_pulls;
    } else {
      t.status = client.Pull(0, 1, keys, &values);
      ++t.pulls;
    }
    if (t.status.ok() && op <= 2) {
      for (size_t j = 0; j < keys.size(); ++j) t.gradient_sum[keys[j]] += grads[j];
    }
  }
  if (t.status.ok()) t.status = client.Flush();
  t.requests = client.requests_sent();
  t.retries = client.retries();
  return t;
}

TEST(SoakTest, PushesApplyExactlyOnceUnderDropsDelaysDuplicatesAndReorders) {
  testing::ClusterSpec spec;
  spec.token = kToken;
  spec.servers = kServers;
  spec.workers = kWorkers;
  spec.server_flags = {"--optimizer=sgd", "--learning_rate=1", "--init=zeros", "--server_threads=2"};
  testing::ProcessCluster cluster(spec);
  ASSERT_TRUE(cluster.Start().ok());

  // Every worker must register before the scheduler publishes the map.
  zmq::context_t link_ctx(1);
  std::vector<std::unique_ptr<SchedulerLink>> links;
  std::vector<std::future<Status>> joins;
  for (int w = 0; w < kWorkers; ++w) {
    links.push_back(testing::MakeWorkerLink(link_ctx, cluster.scheduler_endpoint(), kToken));
    joins.push_back(std::async(std::launch::async, [l = links.back().get()] { return l->Join(); }));
  }
  for (auto& j : joins) {
    Status st = j.get();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Workers reach the servers only through the proxies.
  const ShardMap& real = links[0]->shard_map();
  testing::FaultRates rates;
  rates.drop = rates.delay = rates.duplicate = rates.reorder = 0.02;
  std::vector<std::unique_ptr<testing::FaultProxy>> proxies;
  std::vector<std::string> proxied_endpoints;
  for (int s = 0; s < kServers; ++s) {
    proxies.push_back(std::make_unique<testing::FaultProxy>(
        real.endpoints()[s], rates, 77 + s, security::MemberPassword(ClusterIdFromToken(kToken))));
    ASSERT_TRUE(proxies.back()->Start().ok());
    proxied_endpoints.push_back(proxies.back()->endpoint());
  }
  auto proxied = ShardMap::FromParts(real.epoch(), real.owners(), proxied_endpoints);
  ASSERT_TRUE(proxied.ok());

  const double seconds = SoakSeconds();
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  std::vector<std::future<Tally>> runs;
  for (int w = 0; w < kWorkers; ++w) {
    const uint64_t cluster_id = links[w]->header().cluster_id;
    const uint32_t node_id = links[w]->node_id();
    runs.push_back(std::async(std::launch::async, [&, w, cluster_id, node_id] {
      // Heartbeats go straight to the scheduler, beside the traffic.
      std::atomic<bool> done{false};
      std::thread beat([&] {
        while (!done) {
          (void)links[w]->Tick({});
          std::this_thread::sleep_for(milliseconds(200));
        }
      });
      Tally t = RunWorker(w, cluster_id, node_id, *proxied, end);
      done = true;
      beat.join();
      return t;
    }));
  }
  std::vector<Tally> tallies;
  for (auto& r : runs) tallies.push_back(r.get());
  for (auto& p : proxies) p->Stop();

  Tally total;
  std::unordered_map<uint64_t, double> expected;
  for (const Tally& t : tallies) {
    ASSERT_TRUE(t.status.ok()) << t.status.ToString();
    total.requests += t.requests;
    total.retries += t.retries;
    total.pushes += t.pushes;
    total.push_pulls += t.push_pulls;
    total.pulls += t.pulls;
    for (const auto& [k, g] : t.gradient_sum) expected[k] += g;
  }

  // The final rows, read straight from the servers.
  zmq::context_t ctx(1);
  auto client = testing::ConnectClient(ctx, *links[0]);
  std::vector<uint64_t> keys;
  for (uint32_t k = 0; k < kKeySpace; ++k) keys.push_back(KeyOf(k));
  std::vector<float> values;
  Status st = client->Pull(0, 1, keys, &values);
  ASSERT_TRUE(st.ok()) << st.ToString();
  size_t mismatches = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const float want = static_cast<float>(-expected[keys[i]]);
    if (values[i] != want && ++mismatches <= 5) {
      ADD_FAILURE() << "key " << i << ": server has " << values[i] << ", acknowledged pushes sum to "
                    << want;
    }
  }
  EXPECT_EQ(mismatches, 0u);

  std::vector<std::future<Status>> finishes;
  for (auto& l : links) {
    finishes.push_back(std::async(std::launch::async, [&l] { return testing::FinishAsWorker(*l); }));
  }
  for (auto& f : finishes) EXPECT_TRUE(f.get().ok());
  st = cluster.AwaitExit(std::chrono::seconds(30));
  EXPECT_TRUE(st.ok()) << "a server or the scheduler did not exit cleanly: " << st.ToString();

  testing::FaultCounts faults;
  for (auto& p : proxies) faults += p->counts();
  std::string logs;
  for (int s = 0; s < kServers; ++s) {
    logs += testing::ReadFile(cluster.dir().File("server-" + std::to_string(s) + ".log"));
  }
  uint64_t suppressed = 0;
  for (uint64_t n : testing::NumbersBefore(logs, " duplicates suppressed")) suppressed += n;
  std::printf("soak: %.0f s, %d workers, %d servers: %llu requests sent (%llu pushes, %llu "
              "push+pulls, %llu pulls), %llu messages through the proxies; faults injected: %llu "
              "dropped, %llu delayed, %llu duplicated, %llu reordered; %llu client retries; %llu "
              "duplicates suppressed by the servers; %zu keys, %zu mismatches\n",
              seconds, kWorkers, kServers, (unsigned long long)total.requests,
              (unsigned long long)total.pushes, (unsigned long long)total.push_pulls,
              (unsigned long long)total.pulls, (unsigned long long)faults.messages,
              (unsigned long long)faults.dropped, (unsigned long long)faults.delayed,
              (unsigned long long)faults.duplicated, (unsigned long long)faults.reordered,
              (unsigned long long)total.retries, (unsigned long long)suppressed, keys.size(),
              mismatches);
  // The run must actually have exercised every fault and the recovery.
  EXPECT_GT(faults.dropped, 0u);
  EXPECT_GT(faults.delayed, 0u);
  EXPECT_GT(faults.duplicated, 0u);
  EXPECT_GT(faults.reordered, 0u);
  EXPECT_GT(total.retries, 0u);
  EXPECT_GT(suppressed, 0u);
}

}  // namespace
}  // namespace embedps
