// Peers that do not belong: a node of another job (another cluster token)
// and a node speaking another wire-protocol version are refused by the
// scheduler and by the servers with an error reply and a clear log line,
// and fail fast themselves with a message that says why.
#include <gtest/gtest.h>

#include "common/security/socket_security.h"
#include "common/wire/codec.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

constexpr char kToken[] = "foreign-peer-test";

class ForeignPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ClusterSpec spec;
    spec.token = kToken;
    spec.servers = 1;
    spec.workers = 1;
    cluster_ = std::make_unique<testing::ProcessCluster>(spec);
    ASSERT_TRUE(cluster_->Start().ok());
  }

  // Joins as a node of `token` speaking `version`; short deadline.
  Status JoinAs(const std::string& token, uint16_t version) {
    SchedulerLinkOptions o;
    o.scheduler_endpoint = cluster_->scheduler_endpoint();
    o.cluster_id = ClusterIdFromToken(token);
    o.role = wire::Role::kWorker;
    o.join_timeout = milliseconds(5000);
    o.wire_version = version;
    SchedulerLink link(ctx_, o);
    return link.Join();
  }

  // The admitted worker joins, then sends one raw pull to the server over a
  // connection that presents the membership password of `password_token`.
  StatusOr<wire::Message> RawPull(const wire::Header& header, const std::string& password_token = kToken,
                                  milliseconds timeout = milliseconds(5000)) {
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    RETURN_IF_ERROR(security::SecureConnectingSocket(
        s, {}, security::MemberPassword(ClusterIdFromToken(password_token))));
    s.connect(link_->shard_map().endpoints()[0]);
    std::vector<zmq::message_t> frames;
    frames.push_back(wire::EncodeEnvelope(header, wire::PullMsg{0, 1}));
    frames.push_back(wire::PayloadFromVector(std::vector<uint64_t>{42}));
    RETURN_IF_ERROR(SendFrames(s, std::move(frames)));
    Incoming in;
    if (!ReceiveMessage(s, false, timeout, wire::DecodeLimits{}, &in)) {
      return DeadlineExceeded("no reply");
    }
    if (!in.status.ok()) return in.status;
    return std::move(in.message);
  }

  void JoinAndFinish(bool send_raw_pulls) {
    link_ = testing::MakeWorkerLink(ctx_, cluster_->scheduler_endpoint(), kToken);
    ASSERT_TRUE(link_->Join().ok());
    if (send_raw_pulls) {
      const uint64_t epoch = link_->shard_map().epoch();
      wire::Header foreign{ClusterIdFromToken("another-job"), link_->node_id(), 7, epoch};
      // A node of another job presents its own job's password: refused at
      // the handshake, its message never read.
      auto refused = RawPull(foreign, "another-job", milliseconds(1000));
      EXPECT_EQ(refused.status().code(), StatusCode::kDeadlineExceeded) << refused.status().ToString();
      // Past the handshake, a message of another cluster is still refused.
      auto reply = RawPull(foreign);
      ASSERT_TRUE(reply.ok()) << reply.status().ToString();
      EXPECT_EQ(std::get<wire::ErrorMsg>(reply->body).code, wire::ErrorCode::kWrongCluster);
      wire::Header newer{ClusterIdFromToken(kToken), link_->node_id(), 8, epoch, 99};
      reply = RawPull(newer);
      ASSERT_TRUE(reply.ok()) << reply.status().ToString();
      const auto& err = std::get<wire::ErrorMsg>(reply->body);
      EXPECT_EQ(err.code, wire::ErrorCode::kVersionMismatch);
      EXPECT_NE(err.message.find("speaks version 99"), std::string::npos) << err.message;
    }
    ASSERT_TRUE(testing::FinishAsWorker(*link_).ok());
    ASSERT_TRUE(cluster_->AwaitExit(std::chrono::seconds(20)).ok());
  }

  std::string Log(const std::string& name) const {
    return testing::ReadFile(cluster_->dir().File(name + ".log"));
  }

  zmq::context_t ctx_{1};
  std::unique_ptr<testing::ProcessCluster> cluster_;
  std::unique_ptr<SchedulerLink> link_;
};

TEST_F(ForeignPeerTest, NodeOfAnotherJobIsRefusedAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  Status st = JoinAs("another-job", wire::kWireVersion);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("another cluster"), std::string::npos) << st.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  JoinAndFinish(/*send_raw_pulls=*/true);
  const std::string sched = Log("scheduler");
  EXPECT_NE(sched.find("refused a register from worker (host"), std::string::npos) << sched;
  EXPECT_NE(sched.find("it belongs to another job"), std::string::npos) << sched;
  const std::string server = Log("server-0");
  EXPECT_NE(server.find("refused a pull from node"), std::string::npos) << server;
  EXPECT_NE(server.find("it belongs to another job"), std::string::npos) << server;
  EXPECT_NE(server.find("presented another cluster's password"), std::string::npos) << server;
}

TEST_F(ForeignPeerTest, NodeSpeakingAnotherWireVersionIsRefusedAtOnce) {
  for (uint16_t version : {uint16_t{0}, uint16_t{99}}) {
    const auto start = std::chrono::steady_clock::now();
    Status st = JoinAs(kToken, version);
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
    EXPECT_NE(st.message().find("wire protocol version mismatch"), std::string::npos) << st.ToString();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  }
  JoinAndFinish(/*send_raw_pulls=*/true);
  const std::string sched = Log("scheduler");
  EXPECT_NE(sched.find("wire protocol version mismatch: the peer speaks version 99, this node "
                       "speaks version " + std::to_string(wire::kWireVersion)),
            std::string::npos)
      << sched;
  EXPECT_NE(sched.find("version 0 (a release from before protocol versions)"), std::string::npos)
      << sched;
  const std::string server = Log("server-0");
  EXPECT_NE(server.find("refused a request from 127.0.0.1: wire protocol version mismatch"),
            std::string::npos)
      << server;
}

}  // namespace
}  // namespace embedps
