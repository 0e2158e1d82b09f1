// Keys admit roles, not just nodes: with a keygen directory whose keys are
// bound to roles, a real scheduler refuses a key used to register in another
// role, and a real server serves pushes only to worker keys and pulls only
// to worker and client keys. Each refusal is an error reply and a log line
// naming the key and its role; the admitted worker is not disturbed.
#include <gtest/gtest.h>

#include <tuple>

#include "common/security/curve_keys.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;
using security::KeyRole;

constexpr char kToken[] = "key-role-test";

class KeyRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = key_dir_.File("keys");
    ASSERT_TRUE(security::WriteKeyDirectoryWithRoles(keys_, {{"server-0", KeyRole::kServer},
                                                   {"worker-0", KeyRole::kWorker},
                                                   {"client-0", KeyRole::kClient}})
                    .ok());
    testing::ClusterSpec spec;
    spec.token = kToken;
    spec.servers = 1;
    spec.workers = 1;
    spec.server_flags = {"--optimizer=sgd", "--learning_rate=1", "--init_scale=0"};
    spec.curve_dir = keys_;
    cluster_ = std::make_unique<testing::ProcessCluster>(spec);
    ASSERT_TRUE(cluster_->Start().ok());
  }

  security::CurveConfig Key(const std::string& name) const {
    auto c = security::LoadCurveConfig(keys_, name, false);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : security::CurveConfig{};
  }

  // Registers with the scheduler as `role`, holding `key`.
  Status JoinAs(wire::Role role, const std::string& key) {
    SchedulerLinkOptions o;
    o.scheduler_endpoint = cluster_->scheduler_endpoint();
    o.cluster_id = ClusterIdFromToken(kToken);
    o.role = role;
    o.advertised_endpoint = "tcp://127.0.0.1:1";  // what a server would advertise
    o.join_timeout = milliseconds(3000);
    o.curve = Key(key);
    zmq::context_t ctx(1);
    SchedulerLink link(ctx, o);
    return link.Join();
  }

  std::string Log(const std::string& name) const {
    return testing::ReadFile(cluster_->dir().File(name + ".log"));
  }

  testing::ScratchDir key_dir_;  // outlives the cluster that reads it
  std::unique_ptr<testing::ProcessCluster> cluster_;
  std::string keys_;
  zmq::context_t ctx_{1};
};

TEST_F(KeyRoleTest, SchedulerAdmitsAKeyOnlyInItsRole) {
  // A worker's key cannot make its holder a server, nor a server's key a worker.
  Status st = JoinAs(wire::Role::kServer, "worker-0");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("its CURVE key worker-0"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("admits a worker, not a server"), std::string::npos) << st.ToString();
  st = JoinAs(wire::Role::kWorker, "server-0");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("admits a server, not a worker"), std::string::npos) << st.ToString();

  // The worker key in its own role gets in, and the job runs to its end.
  auto link = testing::MakeWorkerLink(ctx_, cluster_->scheduler_endpoint(), kToken, Key("worker-0"));
  st = link->Join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(testing::FinishAsWorker(*link).ok());
  ASSERT_TRUE(cluster_->AwaitExit(std::chrono::seconds(20)).ok());

  const std::string log = Log("scheduler");
  EXPECT_NE(log.find("refused server from"), std::string::npos) << log;
  EXPECT_NE(log.find("its CURVE key worker-0 (from 127.0.0.1"), std::string::npos) << log;
  EXPECT_NE(log.find("refused worker from"), std::string::npos) << log;
  EXPECT_NE(log.find("admitted worker 0"), std::string::npos) << log;
}

TEST_F(KeyRoleTest, ServersServeOnlyWorkerAndClientKeys) {
  const security::CurveConfig worker_key = Key("worker-0");
  auto link = testing::MakeWorkerLink(ctx_, cluster_->scheduler_endpoint(), kToken, worker_key);
  Status st = link->Join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto worker = testing::ConnectClient(ctx_, *link, worker_key);
  std::vector<uint64_t> keys;
  for (uint64_t k = 1; k <= 100; ++k) keys.push_back(k * 0x9e3779b97f4a7c15ULL);
  ASSERT_TRUE(worker->Push(0, 1, keys, std::vector<float>(keys.size(), 1.0f)).ok());
  ASSERT_TRUE(worker->Flush().ok());

  // A client connecting with `key`: its pull and push, answered or refused.
  auto try_with = [&](const std::string& key) {
    worker::PsClientOptions o;
    o.cluster_id = ClusterIdFromToken(kToken);
    o.node_id = link->node_id();
    o.timeout = milliseconds(3000);
    o.curve = Key(key);
    worker::PsClient client(ctx_, o);
    Status connected = client.Connect(link->shard_map());
    EXPECT_TRUE(connected.ok()) << connected.ToString();
    std::vector<float> values;
    Status pull = client.Pull(0, 1, keys, &values);
    if (pull.ok()) {
      for (float v : values) EXPECT_EQ(v, -1.0f) << key;
    }
    Status push = client.Push(0, 1, keys, std::vector<float>(keys.size(), 5.0f));
    if (push.ok()) push = client.Flush();
    return std::make_pair(pull, push);
  };
  // A server's key (stolen from a server host) neither reads nor writes rows.
  auto [pull, push] = try_with("server-0");
  EXPECT_EQ(pull.code(), StatusCode::kFailedPrecondition) << pull.ToString();
  EXPECT_NE(pull.message().find("its CURVE key server-0 admits a server, which may not send a pull"),
            std::string::npos)
      << pull.ToString();
  EXPECT_EQ(push.code(), StatusCode::kFailedPrecondition) << push.ToString();
  EXPECT_NE(push.message().find("not_admitted"), std::string::npos) << push.ToString();
  // A client's key reads, but does not write.
  std::tie(pull, push) = try_with("client-0");
  EXPECT_TRUE(pull.ok()) << pull.ToString();
  EXPECT_EQ(push.code(), StatusCode::kFailedPrecondition) << push.ToString();
  EXPECT_NE(push.message().find("its CURVE key client-0 admits a client, which may not send a push"),
            std::string::npos)
      << push.ToString();

  // Only the worker's push was applied (SGD, lr 1: 0 - 1).
  std::vector<float> values;
  ASSERT_TRUE(worker->Pull(0, 1, keys, &values).ok());
  for (float v : values) ASSERT_EQ(v, -1.0f);
  ASSERT_TRUE(testing::FinishAsWorker(*link).ok());
  ASSERT_TRUE(cluster_->AwaitExit(std::chrono::seconds(20)).ok());
  // The first refusal is logged (later ones are rate-limited, and counted).
  const std::string log = Log("server-0");
  EXPECT_NE(log.find("security: refused a pull from node"), std::string::npos) << log;
  EXPECT_NE(log.find("its CURVE key server-0 admits a server"), std::string::npos) << log;
}

}  // namespace
}  // namespace embedps
