// Round trips of every message type through the envelope codec, and the
// codec's refusal of malformed, inconsistent and oversized input.
#include "common/wire/codec.h"

#include <gtest/gtest.h>

#include <cstring>

namespace embedps::wire {
namespace {

std::vector<zmq::message_t> Frames(const Header& h, const Body& body,
                                   std::vector<zmq::message_t> payloads = {}) {
  std::vector<zmq::message_t> frames;
  frames.push_back(EncodeEnvelope(h, body));
  for (auto& p : payloads) frames.push_back(std::move(p));
  return frames;
}

Message RoundTrip(const Body& body, std::vector<zmq::message_t> payloads = {}) {
  Header h{0x1234567890abcdefULL, 7, 99, 3};
  auto decoded = Decode(Frames(h, body, std::move(payloads)), DecodeLimits{});
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  Message m = std::move(decoded).value();
  EXPECT_EQ(m.header.cluster_id, h.cluster_id);
  EXPECT_EQ(m.header.sender, 7u);
  EXPECT_EQ(m.header.request_id, 99u);
  EXPECT_EQ(m.header.epoch, 3u);
  return m;
}

TEST(CodecTest, RegisterRoundTrip) {
  Message m = RoundTrip(RegisterMsg{Role::kServer, "tcp://127.0.0.1:5555", "host-a", 4242, ""});
  const auto& r = std::get<RegisterMsg>(m.body);
  EXPECT_EQ(r.role, Role::kServer);
  EXPECT_EQ(r.endpoint, "tcp://127.0.0.1:5555");
  EXPECT_EQ(r.host, "host-a");
  EXPECT_EQ(r.pid, 4242u);
  EXPECT_EQ(r.metrics_url, "");
}

TEST(CodecTest, RegisterCarriesMetricsUrl) {
  Message m = RoundTrip(RegisterMsg{Role::kWorker, "", "host-b", 7, "http://10.0.0.2:9100"});
  EXPECT_EQ(std::get<RegisterMsg>(m.body).metrics_url, "http://10.0.0.2:9100");
}

TEST(CodecTest, ServerHeartbeatCarriesTableStats) {
  ServerStats stats;
  stats.tables.push_back(TableStats{0, "user", 1000, 65536, 3, 4});
  stats.tables.push_back(TableStats{1, "item", 20, 4096, 0, 0});
  stats.pulls = 5;
  stats.pushes = 6;
  stats.keys_pulled = 700;
  stats.keys_pushed = 800;
  stats.rejected = 2;
  stats.resident_bytes = 123456789;
  auto hb = std::get<HeartbeatMsg>(RoundTrip(HeartbeatMsg{Progress{}, stats}).body);
  ASSERT_TRUE(hb.server.has_value());
  ASSERT_EQ(hb.server->tables.size(), 2u);
  const TableStats& t = hb.server->tables[0];
  EXPECT_EQ(t.name, "user");
  EXPECT_EQ(t.rows, 1000u);
  EXPECT_EQ(t.memory_bytes, 65536u);
  EXPECT_EQ(t.evicted, 3u);
  EXPECT_EQ(t.pending_pushes, 4u);
  EXPECT_EQ(hb.server->tables[1].table, 1u);
  EXPECT_EQ(hb.server->keys_pulled, 700u);
  EXPECT_EQ(hb.server->keys_pushed, 800u);
  EXPECT_EQ(hb.server->rejected, 2u);
  EXPECT_EQ(hb.server->resident_bytes, 123456789u);
  // A worker's heartbeat has no server part.
  auto worker_hb = std::get<HeartbeatMsg>(RoundTrip(HeartbeatMsg{Progress{}, std::nullopt}).body);
  EXPECT_FALSE(worker_hb.server.has_value());
}

TEST(CodecTest, EvaluationMessagesRoundTrip) {
  auto e = std::get<EvaluateMsg>(RoundTrip(EvaluateMsg{5, 2000, true}).body);
  EXPECT_EQ(e.id, 5u);
  EXPECT_EQ(e.max_rows, 2000u);
  EXPECT_TRUE(e.final);
  auto r = std::get<EvalResultMsg>(
      RoundTrip(EvalResultMsg{5, false, "no test data", 1234, 0.75, 0.45, 0.9, 0.7, 1.5}).body);
  EXPECT_EQ(r.id, 5u);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "no test data");
  EXPECT_EQ(r.test_rows, 1234u);
  EXPECT_DOUBLE_EQ(r.auc, 0.75);
  EXPECT_DOUBLE_EQ(r.logloss, 0.45);
  EXPECT_DOUBLE_EQ(r.rmse, 0.9);
  EXPECT_DOUBLE_EQ(r.mae, 0.7);
  EXPECT_DOUBLE_EQ(r.seconds, 1.5);
}

TEST(CodecTest, ReadOnlyPullAndDensePullsRoundTrip) {
  for (bool read_only : {false, true}) {
    std::vector<zmq::message_t> payloads;
    payloads.emplace_back(8);
    auto pull = std::get<PullMsg>(RoundTrip(PullMsg{2, 1, read_only}, std::move(payloads)).body);
    EXPECT_EQ(pull.read_only, read_only);
  }
  Progress p;
  p.dense_pulls = 77;
  auto hb = std::get<HeartbeatMsg>(RoundTrip(HeartbeatMsg{p, std::nullopt}).body);
  EXPECT_EQ(hb.progress.dense_pulls, 77u);
}

TEST(CodecTest, StopTrainingRoundTrip) {
  auto m = std::get<StopTrainingMsg>(RoundTrip(StopTrainingMsg{"operator"}).body);
  EXPECT_EQ(m.reason, "operator");
  EXPECT_STREQ(BodyName(Body(StopTrainingMsg{})), "stop_training");
}

TEST(CodecTest, ClockMessagesRoundTrip) {
  auto r = std::get<ClockReportMsg>(RoundTrip(ClockReportMsg{41, true}).body);
  EXPECT_EQ(r.clock, 41u);
  EXPECT_TRUE(r.waiting);
  EXPECT_FALSE(std::get<ClockReportMsg>(RoundTrip(ClockReportMsg{3, false}).body).waiting);
  EXPECT_EQ(std::get<ClockUpdateMsg>(RoundTrip(ClockUpdateMsg{77}).body).min_clock, 77u);
  EXPECT_STREQ(BodyName(Body(ClockReportMsg{})), "clock_report");
  EXPECT_STREQ(BodyName(Body(ClockUpdateMsg{})), "clock_update");
  Progress p;
  p.clock = 1234;
  EXPECT_EQ(std::get<HeartbeatMsg>(RoundTrip(HeartbeatMsg{p, std::nullopt}).body).progress.clock, 1234u);
}

TEST(CodecTest, ShardMapRoundTrip) {
  auto map = ShardMap::Balanced(3, 64, 5);
  ASSERT_TRUE(map.ok());
  map->set_endpoints({"tcp://a:1", "tcp://b:2", "tcp://c:3"});
  Message m = RoundTrip(ShardMapMsg{*map});
  const auto& got = std::get<ShardMapMsg>(m.body).map;
  EXPECT_EQ(got.epoch(), 5u);
  EXPECT_EQ(got.owners(), map->owners());
  EXPECT_EQ(got.endpoints(), map->endpoints());
}

TEST(CodecTest, ShardMapCarriesReplication) {
  auto map = ShardMap::Balanced(2, 16, 4);
  ASSERT_TRUE(map.ok());
  map->set_endpoints({"tcp://a:1", "tcp://b:2"});
  ASSERT_TRUE(map->SetReplication(2, {"tcp://a:11", "tcp://b:12"}).ok());
  const Message m = RoundTrip(ShardMapMsg{*map});
  const auto& got = std::get<ShardMapMsg>(m.body).map;
  EXPECT_EQ(got.replicas(), 2u);
  EXPECT_EQ(got.replica_endpoints(), map->replica_endpoints());
  // A map without replication decodes as one copy.
  auto plain = ShardMap::Balanced(1, 16, 1);
  plain->set_endpoints({"tcp://a:1"});
  EXPECT_EQ(std::get<ShardMapMsg>(RoundTrip(ShardMapMsg{*plain}).body).map.replicas(), 1u);
}

TEST(CodecTest, ReplicationMessagesRoundTrip) {
  auto h = std::get<HandoffMsg>(RoundTrip(HandoffMsg{9, 1, "/ckpt/handoff-9"}).body);
  EXPECT_EQ(h.id, 9u);
  EXPECT_EQ(h.rank, 1u);
  EXPECT_EQ(h.directory, "/ckpt/handoff-9");
  auto hr = std::get<HandoffReplyMsg>(
      RoundTrip(HandoffReplyMsg{9, false, "disk full", "/c", "/d", "/p", 120, 0.5}).body);
  EXPECT_FALSE(hr.ok);
  EXPECT_EQ(hr.error, "disk full");
  EXPECT_EQ(hr.replica_file, "/c");
  EXPECT_EQ(hr.dedup_file, "/d");
  EXPECT_EQ(hr.primary_file, "/p");
  EXPECT_EQ(hr.rows, 120u);
  RestoreMsg restore{2, 0, {{"/c"}}, {{"/p"}}, "/d"};
  auto r = std::get<RestoreMsg>(RoundTrip(restore).body);
  EXPECT_EQ(r.chain, restore.chain);
  EXPECT_EQ(r.replica_chain, restore.replica_chain);
  EXPECT_EQ(r.dedup_file, "/d");
  std::vector<zmq::message_t> payloads;
  const uint64_t keys[2] = {5, 6};
  const float grads[4] = {1, 2, 3, 4};
  payloads.emplace_back(keys, sizeof(keys));
  payloads.emplace_back(grads, sizeof(grads));
  Message push = RoundTrip(ReplicaPushMsg{3, 2, 2, 1}, std::move(payloads));
  const auto& rp = std::get<ReplicaPushMsg>(push.body);
  EXPECT_EQ(rp.table, 3u);
  EXPECT_EQ(rp.primary_rank, 1u);
  ASSERT_EQ(push.payloads.size(), 2u);
  EXPECT_EQ(push.payloads[1].size(), sizeof(grads));
  // Its frames are checked like a push's.
  std::vector<zmq::message_t> short_grads;
  short_grads.emplace_back(keys, sizeof(keys));
  short_grads.emplace_back(grads, sizeof(float));
  EXPECT_FALSE(Decode(Frames(Header{}, ReplicaPushMsg{3, 2, 2, 1}, std::move(short_grads)), DecodeLimits{}).ok());
  auto ack = std::get<ReplicaAckMsg>(RoundTrip(ReplicaAckMsg{false, "wrong primary"}).body);
  EXPECT_FALSE(ack.ok);
  EXPECT_EQ(ack.error, "wrong primary");
}

TEST(CodecTest, PushWithPayloadsRoundTrip) {
  std::vector<uint64_t> keys = {1, 0xffffffffffffffffULL, 42};
  std::vector<float> grads = {0.5f, -1.25f, 3.0f, 4.0f, -0.0f, 1e-30f};
  std::vector<zmq::message_t> payloads;
  payloads.push_back(PayloadFromVector(std::vector<uint64_t>(keys)));
  payloads.push_back(PayloadFromVector(std::vector<float>(grads)));
  Message m = RoundTrip(PushMsg{2, 3, 2, DataType::kFloat32}, std::move(payloads));
  const auto& p = std::get<PushMsg>(m.body);
  EXPECT_EQ(p.table, 2u);
  EXPECT_EQ(p.num_keys, 3u);
  EXPECT_EQ(p.dim, 2u);
  std::vector<uint64_t> got_keys;
  std::vector<float> got_grads;
  CopyPayload(m.payloads[0], &got_keys);
  CopyPayload(m.payloads[1], &got_grads);
  EXPECT_EQ(got_keys, keys);
  EXPECT_EQ(got_grads, grads);
}

TEST(CodecTest, RowHeaderMessagesRoundTrip) {
  std::vector<zmq::message_t> push_pull;
  push_pull.push_back(PayloadFromVector(std::vector<uint64_t>{7, 8}));
  push_pull.push_back(PayloadFromVector(std::vector<float>(6, 0.5f)));
  auto pp = std::get<PushPullMsg>(RoundTrip(PushPullMsg{4, 2, 3, DataType::kFloat32}, std::move(push_pull)).body);
  EXPECT_EQ(pp.table, 4u);
  EXPECT_EQ(pp.num_keys, 2u);
  EXPECT_EQ(pp.dim, 3u);
  EXPECT_EQ(pp.dtype, DataType::kFloat32);

  std::vector<zmq::message_t> rows;
  rows.push_back(PayloadFromVector(std::vector<float>(10, 1.0f)));
  auto pr = std::get<PullReplyMsg>(RoundTrip(PullReplyMsg{1, 5, 2, DataType::kFloat32}, std::move(rows)).body);
  EXPECT_EQ(pr.table, 1u);
  EXPECT_EQ(pr.num_keys, 5u);
  EXPECT_EQ(pr.dim, 2u);
}

TEST(CodecTest, ControlMessagesRoundTrip) {
  Progress prog;
  prog.rows = 100;
  prog.loss_sum = 12.5;
  prog.lines_read = 101;
  prog.bad_lines = 1;
  prog.first_bad_line = "/data/a.tsv:7: expected 40 fields, got 3";
  auto hb = std::get<HeartbeatMsg>(RoundTrip(HeartbeatMsg{prog, std::nullopt}).body);
  EXPECT_EQ(hb.progress.rows, 100u);
  EXPECT_DOUBLE_EQ(hb.progress.loss_sum, 12.5);
  EXPECT_EQ(hb.progress.bad_lines, 1u);
  EXPECT_EQ(hb.progress.first_bad_line, prog.first_bad_line);

  PartitionGrantMsg grant;
  grant.has_partition = true;
  grant.partition = Partition{9, "/data/train.tsv", 100, 2000, 17};
  grant.pass = 2;
  auto g = std::get<PartitionGrantMsg>(RoundTrip(grant).body);
  EXPECT_TRUE(g.has_partition);
  EXPECT_EQ(g.partition.id, 9u);
  EXPECT_EQ(g.partition.file, "/data/train.tsv");
  EXPECT_EQ(g.partition.begin, 100u);
  EXPECT_EQ(g.partition.end, 2000u);
  EXPECT_EQ(g.partition.first_line, 17u);
  EXPECT_EQ(g.pass, 2u);

  auto e = std::get<ErrorMsg>(RoundTrip(ErrorMsg{ErrorCode::kDimMismatch, "bad dim", true}).body);
  EXPECT_EQ(e.code, ErrorCode::kDimMismatch);
  EXPECT_EQ(e.message, "bad dim");
  EXPECT_TRUE(e.fatal);

  auto s = std::get<ShutdownMsg>(RoundTrip(ShutdownMsg{false, "worker died"}).body);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.reason, "worker died");
  EXPECT_EQ(std::get<BarrierMsg>(RoundTrip(BarrierMsg{"epoch-1"}).body).name, "epoch-1");
  EXPECT_EQ(std::get<ExportModelMsg>(RoundTrip(ExportModelMsg{"/m"}).body).directory, "/m");
}

// Every frame received from the network can sit at any address: decoding an
// envelope that starts at an odd offset must work.
TEST(CodecTest, DecodesUnalignedEnvelope) {
  zmq::message_t env = EncodeEnvelope(Header{1, 2, 3, 4}, BarrierMsg{"x"});
  std::vector<char> storage(env.size() + 3);
  std::memcpy(storage.data() + 3, env.data(), env.size());
  std::vector<zmq::message_t> frames;
  frames.emplace_back(storage.data() + 3, env.size());
  auto m = Decode(std::move(frames), DecodeLimits{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(std::get<BarrierMsg>(m->body).name, "x");
}

TEST(CodecTest, RejectsGarbage) {
  std::vector<zmq::message_t> frames;
  const char junk[] = "this is not a capnp message!!!!";  // 32 bytes incl. NUL
  frames.emplace_back(junk, sizeof(junk));
  auto m = Decode(std::move(frames), DecodeLimits{});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("malformed"), std::string::npos);
}

TEST(CodecTest, RejectsTruncatedAndEmpty) {
  EXPECT_FALSE(Decode({}, DecodeLimits{}).ok());
  zmq::message_t env = EncodeEnvelope(Header{}, RegisterMsg{Role::kWorker, "", "h", 1, ""});
  std::vector<zmq::message_t> frames;
  frames.emplace_back(env.data(), env.size() - 8);
  EXPECT_FALSE(Decode(std::move(frames), DecodeLimits{}).ok());
  std::vector<zmq::message_t> odd;
  odd.emplace_back(env.data(), 5);
  EXPECT_FALSE(Decode(std::move(odd), DecodeLimits{}).ok());
}

TEST(CodecTest, RejectsWrongMagic) {
  zmq::message_t env = EncodeEnvelope(Header{}, BarrierMsg{"x"});
  std::vector<char> bytes(static_cast<char*>(env.data()), static_cast<char*>(env.data()) + env.size());
  // Flip bits across the whole struct section; the magic lives there.
  bool rejected_any = false;
  for (size_t i = 8; i < bytes.size(); ++i) {
    std::vector<char> copy = bytes;
    copy[i] ^= 0x5a;
    std::vector<zmq::message_t> frames;
    frames.emplace_back(copy.data(), copy.size());
    auto m = Decode(std::move(frames), DecodeLimits{});  // must never crash
    if (!m.ok()) rejected_any = true;
  }
  EXPECT_TRUE(rejected_any);
}

TEST(CodecTest, RejectsPayloadSizeMismatch) {
  std::vector<zmq::message_t> payloads;
  payloads.push_back(PayloadFromVector(std::vector<uint64_t>{1, 2, 3}));
  // Header claims 4 keys, frame holds 3.
  auto m = Decode(Frames(Header{}, PullMsg{0, 4}, std::move(payloads)), DecodeLimits{});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("header says"), std::string::npos);

  // A push without its gradient frame.
  std::vector<zmq::message_t> one;
  one.push_back(PayloadFromVector(std::vector<uint64_t>{1}));
  EXPECT_FALSE(Decode(Frames(Header{}, PushMsg{0, 1, 1, DataType::kFloat32}, std::move(one)),
                      DecodeLimits{})
                   .ok());
  // A control message carrying stray payload frames.
  std::vector<zmq::message_t> stray;
  stray.emplace_back(8);
  EXPECT_FALSE(Decode(Frames(Header{}, BarrierMsg{"b"}, std::move(stray)), DecodeLimits{}).ok());
}

TEST(CodecTest, CarriesAndChecksTheWireVersion) {
  EXPECT_EQ(RoundTrip(BarrierMsg{"v"}).header.version, kWireVersion);
  for (uint16_t other : {uint16_t{0}, uint16_t{kWireVersion - 1}, uint16_t{kWireVersion + 1}}) {
    Header h;
    h.version = other;
    auto m = Decode(Frames(h, BarrierMsg{"v"}), DecodeLimits{});
    ASSERT_FALSE(m.ok()) << other;
    EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(m.status().message().find("speaks version " + std::to_string(other)), std::string::npos)
        << m.status().message();
    EXPECT_EQ(ErrorCodeForDecodeFailure(m.status()), ErrorCode::kVersionMismatch);
  }
  EXPECT_EQ(ErrorCodeForDecodeFailure(ResourceExhausted("x")), ErrorCode::kTooLarge);
  EXPECT_EQ(ErrorCodeForDecodeFailure(InvalidArgument("x")), ErrorCode::kMalformed);
}

TEST(CodecTest, NewErrorCodesRoundTrip) {
  for (ErrorCode code : {ErrorCode::kVersionMismatch, ErrorCode::kLimitExceeded, ErrorCode::kUnavailable}) {
    Message m = RoundTrip(ErrorMsg{code, "why", false});
    EXPECT_EQ(std::get<ErrorMsg>(m.body).code, code);
  }
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kLimitExceeded), "limit_exceeded");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kUnavailable), "unavailable");
}

TEST(CodecTest, RejectsOversizedMessage) {
  std::vector<zmq::message_t> payloads;
  payloads.push_back(PayloadFromVector(std::vector<uint64_t>(1000, 7)));
  DecodeLimits limits;
  limits.max_message_bytes = 4096;
  auto m = Decode(Frames(Header{}, PullMsg{0, 1000}, std::move(payloads)), limits);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kResourceExhausted);
}

TEST(CodecTest, TraversalLimitStopsHugeEnvelopes) {
  ShardMap map = ShardMap::Balanced(1, 100000, 1).value();
  map.set_endpoints({"tcp://a:1"});
  DecodeLimits limits;
  limits.max_envelope_words = 1000;  // the owners list alone is 50,000 words
  auto m = Decode(Frames(Header{}, ShardMapMsg{map}), limits);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

TEST(CodecTest, ShardMapNamingUnknownServerIsMalformed) {
  // Owners name rank 1 but only one endpoint is listed.
  auto map = ShardMap::Balanced(2, 8, 1).value();
  map.set_endpoints({"tcp://a:1"});
  auto m = Decode(Frames(Header{}, ShardMapMsg{map}), DecodeLimits{});
  EXPECT_FALSE(m.ok());
}

}  // namespace
}  // namespace embedps::wire
