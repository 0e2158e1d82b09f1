// Issue #9, item 6: without CURVE (the default of `embedps local`), four
// connections each sending one 250 MB frame used to raise a server's memory
// by about 950 MB: ZeroMQ read every frame whole before the server could
// refuse it. Now a server asks every connecting peer for the cluster's
// membership password at the handshake, so a stranger's frames are never
// read, and its peak memory stays put; the cluster's own members train as
// before.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/security/socket_security.h"
#include "common/transport.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"

namespace embedps {
namespace {

constexpr char kToken[] = "stranger-memory-test";
constexpr size_t kFrameBytes = size_t{250} << 20;

// The process's peak resident memory (VmHWM), in bytes; 0 when unknown.
uint64_t PeakRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

TEST(StrangerMemoryTest, FramesOfPeersWithoutTheClusterPasswordAreNeverRead) {
  testing::ClusterSpec spec;
  spec.token = kToken;
  spec.servers = 1;
  testing::ProcessCluster cluster(spec);
  ASSERT_TRUE(cluster.Start().ok());
  zmq::context_t ctx(1);
  auto link = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), kToken);
  ASSERT_TRUE(link->Join().ok());
  const std::string server = link->shard_map().endpoints()[0];
  const pid_t pid = cluster.server_pids().at(0);
  const uint64_t before = PeakRss(pid);
  ASSERT_GT(before, 0u);

  // One buffer, sent without copying on four connections: no credentials,
  // and the password of another job.
  static std::vector<char> frame(kFrameBytes, 'x');
  std::vector<std::unique_ptr<zmq::socket_t>> strangers;
  for (int i = 0; i < 4; ++i) {
    auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    if (i % 2 == 1) {
      ASSERT_TRUE(
          security::SecureConnectingSocket(*s, {}, security::MemberPassword(ClusterIdFromToken("other-job"))).ok());
    }
    s->connect(server);
    zmq::message_t msg(frame.data(), frame.size(), nullptr, nullptr);
    ASSERT_TRUE(s->send(msg, zmq::send_flags::dontwait).has_value());
    strangers.push_back(std::move(s));
  }
  // Loopback moves 1 GB in well under this, had the server taken it.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const uint64_t after = PeakRss(pid);
  EXPECT_LT(after, before + (64u << 20)) << "peak RSS went from " << before / (1 << 20) << " MB to "
                                         << after / (1 << 20) << " MB";
  strangers.clear();

  // The cluster's own worker pushes and pulls as before.
  auto client = testing::ConnectClient(ctx, *link);
  std::vector<uint64_t> keys = {1, 2, 3};
  Status st = client->Push(0, 1, keys, std::vector<float>(keys.size(), 0.5f));
  if (st.ok()) st = client->Flush();
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<float> values;
  st = client->Pull(0, 1, keys, &values);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(values.size(), keys.size());
  ASSERT_TRUE(testing::FinishAsWorker(*link).ok());
  ASSERT_TRUE(cluster.AwaitExit(std::chrono::seconds(20)).ok());
  const std::string log = testing::ReadFile(cluster.dir().File("server-0.log"));
  EXPECT_NE(log.find("present this cluster's password"), std::string::npos) << log;
  EXPECT_NE(log.find("presented another cluster's password"), std::string::npos) << log;
}

}  // namespace
}  // namespace embedps
