// Multi-process push/pull exactness: a real scheduler and two real servers
// on loopback, with this test acting as the worker. After known pushes,
// pulls (and the exported model) hold exactly the expected values; bad
// requests get error replies and leave the servers serving.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>
#include <unordered_map>

#include "common/model_file.h"
#include "common/scheduler_link.h"
#include "common/security/socket_security.h"
#include "common/wire/codec.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"
#include "worker/ps_client.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

constexpr char kToken[] = "push-pull-test";

class PushPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ClusterSpec spec;
    spec.token = kToken;
    spec.server_flags = {"--optimizer=sgd", "--learning_rate=1", "--init_scale=0",
                         "--max_message_bytes=60000"};
    cluster_ = std::make_unique<testing::ProcessCluster>(spec);
    ASSERT_TRUE(cluster_->Start().ok());
    link_ = testing::MakeWorkerLink(ctx_, cluster_->scheduler_endpoint(), kToken);
    Status st = link_->Join();
    ASSERT_TRUE(st.ok()) << st.ToString();
    client_ = testing::ConnectClient(ctx_, *link_);
  }

  // Finishes the job the way a worker does, so every process exits cleanly.
  void FinishJob(int64_t finished = -1) {
    for (int i = 0; i < 100; ++i) {
      auto reply = link_->Call(wire::PartitionRequestMsg{finished, {}}, milliseconds(5000));
      ASSERT_TRUE(reply.ok()) << reply.status().ToString();
      const auto& grant = std::get<wire::PartitionGrantMsg>(reply->body);
      if (!grant.has_partition) break;
      finished = grant.partition.id;
    }
    ASSERT_TRUE(link_->Send(wire::WorkerDoneMsg{}).ok());
    bool shutdown = false;
    for (int i = 0; i < 200 && !shutdown; ++i) {
      ASSERT_TRUE(link_->Tick({}).ok());
      while (auto ev = link_->NextEvent()) {
        shutdown |= std::holds_alternative<wire::ShutdownMsg>(ev->body);
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    EXPECT_TRUE(shutdown);
    Status st = cluster_->AwaitExit(std::chrono::seconds(20));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  // Sends raw frames to server 0 and returns its decoded reply.
  StatusOr<wire::Message> RawRequest(std::vector<zmq::message_t> frames) {
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    // A member of the cluster (servers refuse strangers at the handshake).
    EXPECT_TRUE(security::SecureConnectingSocket(s, {}, security::MemberPassword(link_->header().cluster_id)).ok());
    s.connect(link_->shard_map().endpoints()[0]);
    for (size_t i = 0; i < frames.size(); ++i) {
      s.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    Incoming in;
    if (!ReceiveMessage(s, false, milliseconds(5000), wire::DecodeLimits{}, &in)) {
      return DeadlineExceeded("no reply");
    }
    if (!in.status.ok()) return in.status;
    return std::move(in.message);
  }

  zmq::context_t ctx_{1};
  std::unique_ptr<testing::ProcessCluster> cluster_;
  std::unique_ptr<SchedulerLink> link_;
  std::unique_ptr<worker::PsClient> client_;
};

// Messages the scheduler sends on its own (here the clock update it answers
// a waiting clock report with) carry ids no node request can have, so a
// node waiting for a reply never takes one of them for it: an evaluation
// request once arrived with the id of the worker's pending partition
// request and failed the job.
TEST_F(PushPullTest, SchedulerMessagesOfItsOwnCarryIdsNoRequestCanHave) {
  auto reply = link_->Call(wire::PartitionRequestMsg{-1, {}}, milliseconds(5000));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->header.request_id >> 63, 0u);  // replies echo the request's id
  const auto& grant = std::get<wire::PartitionGrantMsg>(reply->body);
  ASSERT_TRUE(grant.has_partition);
  std::vector<wire::Message> events;
  for (int i = 0; i < 40 && events.empty(); ++i) {
    ASSERT_TRUE(link_->Send(wire::ClockReportMsg{0, /*waiting=*/true}).ok());
    ASSERT_TRUE(link_->Tick({}).ok());
    std::this_thread::sleep_for(milliseconds(50));
    ASSERT_TRUE(link_->Tick({}).ok());
    while (auto ev = link_->NextEvent()) events.push_back(std::move(*ev));
  }
  bool saw_clock = false;
  for (const auto& ev : events) {
    saw_clock |= std::holds_alternative<wire::ClockUpdateMsg>(ev.body);
    EXPECT_NE(ev.header.request_id >> 63, 0u) << wire::BodyName(ev.body) << " id " << ev.header.request_id;
  }
  EXPECT_TRUE(saw_clock) << events.size() << " events, none a clock update";
  FinishJob(grant.partition.id);
}

TEST_F(PushPullTest, PullsReturnExactlyThePushedSumsAcrossTwoServers) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> keys(3000);
  for (auto& k : keys) k = rng();
  std::vector<int> per_server(2, 0);
  for (uint64_t k : keys) ++per_server[link_->shard_map().ServerOf(k)];
  ASSERT_GT(per_server[0], 1000);
  ASSERT_GT(per_server[1], 1000);

  // Untouched rows start at exactly zero (init_scale 0).
  std::vector<float> values;
  ASSERT_TRUE(client_->Pull(0, 1, keys, &values).ok());
  for (float v : values) ASSERT_EQ(v, 0.0f);

  // Gradients are multiples of 1/4, so SGD with lr 1 sums them exactly.
  std::vector<float> expected(keys.size(), 0.0f);
  for (int round = 1; round <= 5; ++round) {
    std::vector<float> grads(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      grads[i] = 0.25f * static_cast<float>(static_cast<int>(i % 9) - 4) * round;
      expected[i] -= grads[i];
    }
    ASSERT_TRUE(client_->Push(0, 1, keys, grads).ok());
  }
  ASSERT_TRUE(client_->Flush().ok());
  ASSERT_TRUE(client_->Pull(0, 1, keys, &values).ok());
  ASSERT_EQ(values.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(values[i], expected[i]) << "key " << i;

  FinishJob();
  // The exported model holds the same values, split over the two servers.
  std::unordered_map<uint64_t, float> exported;
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(cluster_->model_dir())) {
    auto shard = ReadModelShard(e.path().string());
    ASSERT_TRUE(shard.ok()) << shard.status().ToString();
    ++files;
    for (size_t i = 0; i < shard->keys.size(); ++i) exported[shard->keys[i]] = shard->values[i];
  }
  EXPECT_EQ(files, 2);
  ASSERT_EQ(exported.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(exported[keys[i]], expected[i]);
}

TEST_F(PushPullTest, BadRequestsGetErrorsAndServersKeepServing) {
  std::vector<uint64_t> keys = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> values;
  ASSERT_TRUE(client_->Push(0, 1, keys, std::vector<float>(8, 1.0f)).ok());
  ASSERT_TRUE(client_->Flush().ok());

  // Unknown table.
  Status st = client_->Pull(9, 1, keys, &values);
  EXPECT_NE(st.message().find("unknown_table"), std::string::npos) << st.ToString();
  // Dim mismatch: the table has dim 1.
  ASSERT_TRUE(client_->Push(0, 2, keys, std::vector<float>(16, 1.0f)).ok());
  st = client_->Flush();
  EXPECT_NE(st.message().find("dim_mismatch"), std::string::npos) << st.ToString();
  // A NaN gradient is refused whole by the client...
  std::vector<float> nan_grads(8, 1.0f);
  nan_grads[3] = std::nanf("");
  EXPECT_EQ(client_->Push(0, 1, keys, nan_grads).code(), StatusCode::kInvalidArgument);
  // ...and by a server that receives one anyway.
  std::vector<uint64_t> mine;
  for (uint64_t k : keys) {
    if (link_->shard_map().ServerOf(k) == 0) mine.push_back(k);
  }
  ASSERT_FALSE(mine.empty());
  std::vector<float> bad(mine.size(), std::nanf(""));
  const uint32_t n_mine = static_cast<uint32_t>(mine.size());
  std::vector<zmq::message_t> nan_push;
  wire::Header me{ClusterIdFromToken(kToken), link_->node_id(), 500, link_->shard_map().epoch()};
  nan_push.push_back(wire::EncodeEnvelope(me, wire::PushMsg{0, n_mine, 1, wire::DataType::kFloat32}));
  nan_push.push_back(wire::PayloadFromVector(std::move(mine)));
  nan_push.push_back(wire::PayloadFromVector(std::move(bad)));
  auto nan_reply = RawRequest(std::move(nan_push));
  ASSERT_TRUE(nan_reply.ok()) << nan_reply.status().ToString();
  EXPECT_EQ(std::get<wire::ErrorMsg>(nan_reply->body).code, wire::ErrorCode::kBadValues);

  // Garbage bytes.
  std::vector<zmq::message_t> garbage;
  garbage.emplace_back("definitely not capnp", 20);
  auto reply = RawRequest(std::move(garbage));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(std::get<wire::ErrorMsg>(reply->body).code, wire::ErrorCode::kMalformed);

  // A peer from another cluster.
  std::vector<uint64_t> one_key = {keys[0]};
  std::vector<zmq::message_t> foreign;
  wire::Header h{ClusterIdFromToken("some-other-job"), 99, 1, link_->shard_map().epoch()};
  foreign.push_back(wire::EncodeEnvelope(h, wire::PullMsg{0, 1}));
  foreign.push_back(wire::PayloadFromVector(std::move(one_key)));
  reply = RawRequest(std::move(foreign));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(std::get<wire::ErrorMsg>(reply->body).code, wire::ErrorCode::kWrongCluster);

  // Oversized: two frames, each under the per-frame cap, 64 KB together.
  std::vector<zmq::message_t> big;
  wire::Header ours{ClusterIdFromToken(kToken), link_->node_id(), 1000, link_->shard_map().epoch()};
  big.push_back(wire::EncodeEnvelope(ours, wire::PushMsg{0, 4000, 1, wire::DataType::kFloat32}));
  big.push_back(wire::PayloadFromVector(std::vector<uint64_t>(4000, 1)));
  big.push_back(wire::PayloadFromVector(std::vector<float>(4000 * 2, 1.0f)));
  reply = RawRequest(std::move(big));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(std::get<wire::ErrorMsg>(reply->body).code, wire::ErrorCode::kTooLarge);

  // Still serving, with the original values (-1 each, SGD lr 1).
  ASSERT_TRUE(client_->Pull(0, 1, keys, &values).ok());
  for (float v : values) EXPECT_EQ(v, -1.0f);
  FinishJob();
  const std::string log0 = testing::ReadFile(cluster_->dir().File("server-0.log"));
  EXPECT_NE(log0.find("malformed"), std::string::npos);
}

}  // namespace
}  // namespace embedps
