// A server refuses requests once its lease on its rank ran out (it has not
// heard from the scheduler within the death timeout, less a margin), and
// serves again once renewed: a server stalled past the timeout may have been
// replaced, and acknowledging a push then would lose it silently (the
// simulator's seeds 4460 and 5917 found that window).
#include <gtest/gtest.h>

#include <cstring>

#include "common/metrics.h"
#include "common/transport.h"
#include "ps/embedding_table.h"
#include "ps/request_handler.h"

namespace embedps::ps {
namespace {

using std::chrono::milliseconds;

class ServingLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TableConfig config;
    config.dim = 1;
    auto table = EmbeddingTable::Create(config);
    ASSERT_TRUE(table.ok());
    state_.tables[0] = std::move(table).value();
    handler_ = std::make_unique<RequestHandler>(&state_, &metrics_);
    auto map = ShardMap::Balanced(1, 16, 1);
    ASSERT_TRUE(map.ok());
    handler_->SetShardMap(*map);
    ConfigureSocket(router_, 1 << 20);
    ConfigureSocket(dealer_, 1 << 20);
    router_.bind("inproc://lease");
    dealer_.connect("inproc://lease");
  }

  // Sends a pull of one key through the handler; the reply's body.
  wire::Body Pull() {
    wire::Header h;
    h.request_id = ++request_;
    h.epoch = 1;
    zmq::message_t keys(sizeof(uint64_t));
    const uint64_t key = 42;
    std::memcpy(keys.data(), &key, sizeof(key));
    std::vector<zmq::message_t> payloads;
    payloads.push_back(std::move(keys));
    EXPECT_TRUE(SendMessage(dealer_, h, wire::PullMsg{0, 1, false}, std::move(payloads)).ok());
    Incoming in;
    EXPECT_TRUE(ReceiveMessage(router_, /*router=*/true, milliseconds(2000), wire::DecodeLimits{}, &in));
    handler_->Handle(in, router_);
    Incoming reply;
    EXPECT_TRUE(ReceiveMessage(dealer_, /*router=*/false, milliseconds(2000), wire::DecodeLimits{}, &reply));
    return reply.message.body;
  }

  zmq::context_t ctx_;
  zmq::socket_t router_{ctx_, zmq::socket_type::router};
  zmq::socket_t dealer_{ctx_, zmq::socket_type::dealer};
  MetricsRegistry metrics_;
  ServingState state_;
  std::unique_ptr<RequestHandler> handler_;
  uint64_t request_ = 0;
};

int64_t NanosFromNow(milliseconds offset) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>((Clock::now() + offset).time_since_epoch()).count();
}

TEST_F(ServingLeaseTest, AnExpiredLeaseRefusesAndARenewedOneServes) {
  state_.serving_until_ns = NanosFromNow(milliseconds(10000));
  EXPECT_TRUE(std::holds_alternative<wire::PullReplyMsg>(Pull()));

  state_.serving_until_ns = NanosFromNow(milliseconds(-1));
  const wire::Body refused = Pull();
  ASSERT_TRUE(std::holds_alternative<wire::ErrorMsg>(refused));
  EXPECT_EQ(std::get<wire::ErrorMsg>(refused).code, wire::ErrorCode::kUnavailable);
  EXPECT_NE(std::get<wire::ErrorMsg>(refused).message.find("not heard from the scheduler"), std::string::npos);

  state_.serving_until_ns = NanosFromNow(milliseconds(10000));
  EXPECT_TRUE(std::holds_alternative<wire::PullReplyMsg>(Pull()));
}

}  // namespace
}  // namespace embedps::ps
