// SchedulerLink against a scripted scheduler (a ROUTER socket on loopback):
// a call keeps the heartbeats going while it waits, so a request lost with a
// killed scheduler ends in a rejoin rather than a timeout.
#include "common/scheduler_link.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/transport.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;
constexpr uint64_t kCluster = 0x5c4ed;

// One incarnation of the scheduler: a ROUTER bound to the given endpoint.
class ScriptedScheduler {
 public:
  ScriptedScheduler(zmq::context_t& ctx, const std::string& endpoint) : socket_(ctx, zmq::socket_type::router) {
    ConfigureSocket(socket_, 1 << 20);
    // ZeroMQ closes a socket in the background, and the node's reconnecting
    // socket can hold the port for a moment: the successor retries until the
    // port is free (up to 5 s).
    auto bound = BindSocket(socket_, endpoint);
    for (int i = 0; i < 250 && !bound.ok(); ++i) {
      std::this_thread::sleep_for(milliseconds(20));
      bound = BindSocket(socket_, endpoint);
    }
    EXPECT_TRUE(bound.ok()) << bound.status().ToString();
    if (bound.ok()) endpoint_ = *bound;
  }
  const std::string& endpoint() const { return endpoint_; }

  // The next message, or nullopt after `timeout`.
  std::optional<Incoming> Next(milliseconds timeout = milliseconds(5000)) {
    Incoming in;
    if (!ReceiveMessage(socket_, /*router=*/true, timeout, wire::DecodeLimits{}, &in)) return std::nullopt;
    EXPECT_TRUE(in.status.ok()) << in.status.ToString();
    return in;
  }
  void Reply(const Incoming& to, const wire::Body& body) {
    wire::Header h;
    h.cluster_id = kCluster;
    h.request_id = to.message.header.request_id;
    ASSERT_TRUE(SendMessage(socket_, h, body, {}, &to.routing_id).ok());
  }
  // Admits the registering node and sends it a one-server shard map.
  void Admit() {
    auto reg = Next();
    ASSERT_TRUE(reg.has_value());
    ASSERT_TRUE(std::holds_alternative<wire::RegisterMsg>(reg->message.body));
    Reply(*reg, wire::RegisterReplyMsg{/*node_id=*/5, /*rank=*/0, /*num_servers=*/1, /*num_workers=*/1});
    auto map = ShardMap::FromParts(1, std::vector<uint32_t>(16, 0), {"tcp://127.0.0.1:1"});
    ASSERT_TRUE(map.ok());
    Reply(*reg, wire::ShardMapMsg{*map});
  }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

class SchedulerLinkTest : public ::testing::Test {
 protected:
  void JoinTo(ScriptedScheduler& scheduler) {
    SchedulerLinkOptions options;
    options.scheduler_endpoint = scheduler.endpoint();
    options.cluster_id = kCluster;
    options.role = wire::Role::kWorker;
    options.heartbeat_interval = milliseconds(100);
    options.join_timeout = milliseconds(5000);
    link_ = std::make_unique<SchedulerLink>(ctx_, options);
    auto joined = std::async(std::launch::async, [this] { return link_->Join(); });
    scheduler.Admit();
    Status st = joined.get();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(link_->Tick(wire::Progress{/*rows=*/1234}).ok());
  }

  zmq::context_t ctx_;
  std::unique_ptr<SchedulerLink> link_;
};

TEST_F(SchedulerLinkTest, ACallHeartbeatsWhileTheSchedulerTakesItsTime) {
  ScriptedScheduler scheduler(ctx_, "tcp://127.0.0.1:0");
  ASSERT_NO_FATAL_FAILURE(JoinTo(scheduler));
  auto call = std::async(std::launch::async, [this] {
    return link_->Call(wire::PartitionRequestMsg{-1, wire::Progress{/*rows=*/5678}}, milliseconds(10000));
  });
  std::optional<Incoming> request;
  int heartbeats = 0;
  const auto deadline = Clock::now() + milliseconds(5000);
  // Hold the request back until three heartbeats came during the call.
  while (heartbeats < 3 && Clock::now() < deadline) {
    auto in = scheduler.Next(milliseconds(500));
    if (!in) continue;
    if (auto* hb = std::get_if<wire::HeartbeatMsg>(&in->message.body)) {
      if (!request) continue;  // the one Tick() sent before the call
      ++heartbeats;
      // The request's progress is newer than Tick()'s heartbeat (1234 rows).
      EXPECT_EQ(hb->progress.rows, 5678u) << "the call repeats the newest progress";
      scheduler.Reply(*in, wire::HeartbeatMsg{});
    } else {
      ASSERT_TRUE(std::holds_alternative<wire::PartitionRequestMsg>(in->message.body));
      request = std::move(*in);
    }
  }
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(heartbeats, 3);
  scheduler.Reply(*request, wire::PartitionGrantMsg{});
  auto reply = call.get();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(std::holds_alternative<wire::PartitionGrantMsg>(reply->body));
  EXPECT_EQ(reply->header.request_id, request->message.header.request_id);
}

// The request reaches a scheduler that is then killed before it answers; a
// new one binds the same endpoint and knows no node. The call must not wait
// out its timeout: a heartbeat reaches the new scheduler, is answered
// "unknown node", and the call returns at once asking for a rejoin.
TEST_F(SchedulerLinkTest, ARequestLostWithAKilledSchedulerEndsInARejoinNotATimeout) {
  auto first = std::make_unique<ScriptedScheduler>(ctx_, "tcp://127.0.0.1:0");
  const std::string endpoint = first->endpoint();
  ASSERT_NO_FATAL_FAILURE(JoinTo(*first));
  const auto start = Clock::now();
  auto call = std::async(std::launch::async, [this] {
    return link_->Call(wire::PartitionRequestMsg{-1, {}}, milliseconds(20000));
  });
  bool got_request = false;
  while (!got_request) {
    auto in = first->Next();
    ASSERT_TRUE(in.has_value()) << "no partition request";
    got_request = std::holds_alternative<wire::PartitionRequestMsg>(in->message.body);
  }
  first.reset();  // killed with the request unanswered
  ScriptedScheduler second(ctx_, endpoint);
  ASSERT_EQ(second.endpoint(), endpoint);
  int refused = 0;
  while (call.wait_for(milliseconds(0)) != std::future_status::ready) {
    auto in = second.Next(milliseconds(200));
    if (!in) continue;
    second.Reply(*in, wire::ErrorMsg{wire::ErrorCode::kNotAdmitted, "unknown node; register first", false});
    ++refused;
  }
  auto reply = call.get();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable) << reply.status().ToString();
  EXPECT_EQ(reply.status().message(), kSchedulerRestarted);
  EXPECT_TRUE(link_->rejoin_needed());
  EXPECT_GE(refused, 1);
  EXPECT_LT(took.count(), 10000) << "the call waited for its timeout";
}

// The serving lease counts from when the answered request was sent, not
// from when its answer was read: an answer read late (after a stall)
// proves nothing about now.
TEST_F(SchedulerLinkTest, AnsweredSentAtIsTheSendTimeOfTheAnsweredRequest) {
  ScriptedScheduler scheduler(ctx_, "tcp://127.0.0.1:0");
  ASSERT_NO_FATAL_FAILURE(JoinTo(scheduler));
  const Clock::time_point after_join = link_->answered_sent_at();
  auto hb = scheduler.Next();  // the heartbeat JoinTo's Tick sent
  ASSERT_TRUE(hb.has_value());
  ASSERT_TRUE(std::holds_alternative<wire::HeartbeatMsg>(hb->message.body));
  const Clock::time_point before_reply = Clock::now();
  // Answer late: the node reads it half a second after it was sent.
  std::this_thread::sleep_for(milliseconds(500));
  scheduler.Reply(*hb, wire::HeartbeatMsg{});
  const auto deadline = Clock::now() + milliseconds(3000);
  while (link_->answered_sent_at() == after_join && Clock::now() < deadline) {
    ASSERT_TRUE(link_->Tick(wire::Progress{}).ok());
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GT(link_->answered_sent_at(), after_join);
  EXPECT_LT(link_->answered_sent_at(), before_reply) << "the lease must start when the heartbeat left";
  // An error answer renews nothing.
  auto next = scheduler.Next();
  ASSERT_TRUE(next.has_value());
  const Clock::time_point basis = link_->answered_sent_at();
  scheduler.Reply(*next, wire::ErrorMsg{wire::ErrorCode::kReplaced, "replaced", false});
  for (int i = 0; i < 50 && !link_->replaced(); ++i) {
    (void)link_->Tick(wire::Progress{});
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(link_->replaced());
  EXPECT_EQ(link_->answered_sent_at(), basis);
}

}  // namespace
}  // namespace embedps
