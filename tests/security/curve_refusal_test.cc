// CURVE refusals, with a real scheduler and servers started from a keygen
// directory: a node whose key is not on the allow-list, a node without
// CURVE, and a node holding another job's keys can neither register with
// the scheduler nor pull from or push to a server, and each refusal is
// logged with the peer's address and the reason. Admitted nodes are not
// disturbed.
#include <gtest/gtest.h>

#include <future>

#include "common/security/curve_keys.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

constexpr char kToken[] = "curve-test";

struct Intruder {
  const char* what;
  security::CurveConfig curve;
  const char* scheduler_log;  // the refusal line the scheduler must log
};

class CurveRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ClusterSpec spec;
    spec.token = kToken;
    spec.servers = 2;
    spec.workers = 1;
    spec.server_flags = {"--optimizer=sgd", "--learning_rate=1", "--init_scale=0"};
    keys_ = key_dir_.File("keys");
    ASSERT_TRUE(security::WriteKeyDirectory(keys_, {"server-0", "server-1", "worker-0"}).ok());
    const std::string other = key_dir_.File("other-job-keys");
    ASSERT_TRUE(security::WriteKeyDirectory(other, {"worker-0"}).ok());
    spec.curve_dir = keys_;
    cluster_ = std::make_unique<testing::ProcessCluster>(spec);
    ASSERT_TRUE(cluster_->Start().ok());

    auto good = security::LoadCurveConfig(keys_, "worker-0", false);
    ASSERT_TRUE(good.ok()) << good.status().ToString();
    good_ = *good;
    // Knows the cluster's public key, but its own key was never admitted.
    security::CurveConfig unknown = good_;
    auto pair = security::GenerateKeyPair();
    ASSERT_TRUE(pair.ok());
    unknown.node = *pair;
    unknown.node_name = "intruder";
    auto foreign = security::LoadCurveConfig(other, "worker-0", false);
    ASSERT_TRUE(foreign.ok());
    intruders_ = {
        {"a key not on the allow-list", unknown, "is not on the allow-list"},
        {"no CURVE", security::CurveConfig{}, "does not speak CURVE"},
        {"another job's keys", *foreign, "expects another cluster key"},
    };
  }

  // Reads a daemon's log once it has had time to write the refusals.
  std::string Log(const std::string& name) const {
    return testing::ReadFile(cluster_->dir().File(name + ".log"));
  }

  testing::ScratchDir key_dir_;  // outlives the cluster that reads it
  std::unique_ptr<testing::ProcessCluster> cluster_;
  std::string keys_;
  security::CurveConfig good_;
  std::vector<Intruder> intruders_;
  zmq::context_t ctx_{1};
};

TEST_F(CurveRefusalTest, OnlyAdmittedKeysCanRegister) {
  std::vector<std::future<Status>> attempts;
  for (const Intruder& intruder : intruders_) {
    attempts.push_back(std::async(std::launch::async, [this, in = &intruder] {
      SchedulerLinkOptions o;
      o.scheduler_endpoint = cluster_->scheduler_endpoint();
      o.cluster_id = ClusterIdFromToken(kToken);  // even the right token does not help
      o.role = wire::Role::kWorker;
      o.join_timeout = milliseconds(1500);
      o.curve = in->curve;
      zmq::context_t ctx(1);
      SchedulerLink link(ctx, o);
      return link.Join();
    }));
  }
  for (size_t i = 0; i < attempts.size(); ++i) {
    Status st = attempts[i].get();
    EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded) << intruders_[i].what << ": " << st.ToString();
  }
  // The one admitted worker still gets in, and the job runs to its end.
  auto link = testing::MakeWorkerLink(ctx_, cluster_->scheduler_endpoint(), kToken, good_);
  Status st = link->Join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(testing::FinishAsWorker(*link).ok());
  ASSERT_TRUE(cluster_->AwaitExit(std::chrono::seconds(20)).ok());

  const std::string log = Log("scheduler");
  for (const Intruder& in : intruders_) {
    EXPECT_NE(log.find(in.scheduler_log), std::string::npos) << in.what << "\n" << log;
  }
  EXPECT_NE(log.find("security: refused a connection from 127.0.0.1"), std::string::npos) << log;
  EXPECT_NE(log.find("CURVE key worker-0"), std::string::npos) << log;
}

TEST_F(CurveRefusalTest, OnlyAdmittedKeysCanPullOrPush) {
  auto link = testing::MakeWorkerLink(ctx_, cluster_->scheduler_endpoint(), kToken, good_);
  Status st = link->Join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto client = testing::ConnectClient(ctx_, *link, good_);
  std::vector<uint64_t> keys;
  for (uint64_t k = 1; k <= 200; ++k) keys.push_back(k * 0x9e3779b97f4a7c15ULL);
  ASSERT_TRUE(client->Push(0, 1, keys, std::vector<float>(keys.size(), 1.0f)).ok());
  ASSERT_TRUE(client->Flush().ok());

  std::vector<std::future<std::pair<Status, Status>>> attempts;
  for (const Intruder& intruder : intruders_) {
    attempts.push_back(std::async(std::launch::async, [&, in = &intruder] {
      zmq::context_t ctx(1);
      worker::PsClientOptions o;
      o.cluster_id = ClusterIdFromToken(kToken);
      o.node_id = link->node_id();  // impersonating the admitted worker does not help
      o.timeout = milliseconds(800);
      o.curve = in->curve;
      worker::PsClient client(ctx, o);
      Status connected = client.Connect(link->shard_map());
      if (!connected.ok()) return std::make_pair(connected, connected);
      std::vector<float> values;
      Status pull = client.Pull(0, 1, keys, &values);
      Status push = client.Push(0, 1, keys, std::vector<float>(keys.size(), 5.0f));
      if (push.ok()) push = client.Flush();
      return std::make_pair(pull, push);
    }));
  }
  // No reply ever comes (DeadlineExceeded), or, once ZeroMQ has dropped the
  // refused connection, the request cannot even be sent (Unavailable).
  auto refused = [](const Status& st) {
    return st.code() == StatusCode::kDeadlineExceeded || st.code() == StatusCode::kUnavailable;
  };
  for (size_t i = 0; i < attempts.size(); ++i) {
    auto [pull, push] = attempts[i].get();
    EXPECT_TRUE(refused(pull)) << intruders_[i].what << ": " << pull.ToString();
    EXPECT_TRUE(refused(push)) << intruders_[i].what << ": " << push.ToString();
  }
  // Only the admitted worker's push was applied (SGD, lr 1: 0 - 1).
  std::vector<float> values;
  ASSERT_TRUE(client->Pull(0, 1, keys, &values).ok());
  for (float v : values) ASSERT_EQ(v, -1.0f);

  ASSERT_TRUE(testing::FinishAsWorker(*link).ok());
  ASSERT_TRUE(cluster_->AwaitExit(std::chrono::seconds(20)).ok());
  const std::string logs = Log("server-0") + Log("server-1");
  for (const Intruder& in : intruders_) {
    EXPECT_NE(logs.find(in.scheduler_log), std::string::npos) << in.what << "\n" << logs;
  }
}

}  // namespace
}  // namespace embedps
