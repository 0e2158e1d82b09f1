// Server limits, against a real server with small bounds: a request with too
// many keys, one that would create rows past --max_rows_per_table or past
// --max_server_memory_mb, and a pull whose reply would pass
// --max_message_bytes each get an error reply and a counter increment,
// change nothing, and leave the server serving. A configuration with more
// tables than --max_tables is refused at start-up.
#include <gtest/gtest.h>

#include "common/hash.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"

namespace embedps {
namespace {

constexpr char kToken[] = "limits-test";
constexpr uint32_t kSmall = 0;  // dim 1: 4 + 16 bytes a row
constexpr uint32_t kWide = 1;   // dim 256: 1024 + 16 bytes a row

std::vector<uint64_t> Keys(uint64_t first, size_t n) {
  std::vector<uint64_t> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(Mix64(first + i));
  return keys;
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ClusterSpec spec;
    spec.token = kToken;
    spec.servers = 1;
    spec.server_flags = {
        "--tables=name=small dim=1 optimizer=sgd lr=1 init=zeros; "
        "name=wide dim=256 optimizer=sgd lr=1 init=zeros",
        "--max_keys_per_request=1000", "--max_rows_per_table=2500", "--max_server_memory_mb=2",
        "--max_message_bytes=600000"};
    cluster_ = std::make_unique<testing::ProcessCluster>(spec);
    ASSERT_TRUE(cluster_->Start().ok());
    link_ = testing::MakeWorkerLink(ctx_, cluster_->scheduler_endpoint(), kToken);
    ASSERT_TRUE(link_->Join().ok());
    client_ = testing::ConnectClient(ctx_, *link_);
  }

  Status Push(uint32_t table, const std::vector<uint64_t>& keys) {
    const uint32_t dim = table == kSmall ? 1 : 256;
    RETURN_IF_ERROR(client_->Push(table, dim, keys, std::vector<float>(keys.size() * dim, 1.0f)));
    return client_->Flush();
  }
  Status Pull(uint32_t table, const std::vector<uint64_t>& keys) {
    std::vector<float> values;
    return client_->Pull(table, table == kSmall ? 1 : 256, keys, &values);
  }
  // A refusal naming `limit`, with the error code `code`.
  static void ExpectRefused(const Status& st, const char* code, const char* limit) {
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find(code), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find(limit), std::string::npos) << st.ToString();
  }

  zmq::context_t ctx_{1};
  std::unique_ptr<testing::ProcessCluster> cluster_;
  std::unique_ptr<SchedulerLink> link_;
  std::unique_ptr<worker::PsClient> client_;
};

TEST_F(LimitsTest, RequestsPastEachLimitAreRefusedAndCounted) {
  // Keys per request.
  ExpectRefused(Pull(kSmall, Keys(0, 1001)), "limit_exceeded", "--max_keys_per_request=1000");
  ASSERT_TRUE(Pull(kSmall, Keys(0, 1000)).ok());  // creates 1000 rows

  // Rows per table: 1000 + 1000 fit, 1000 more do not; the refused push
  // creates nothing, so 500 still fit afterwards.
  ASSERT_TRUE(Push(kSmall, Keys(1000, 1000)).ok());
  ExpectRefused(Push(kSmall, Keys(2000, 1000)), "limit_exceeded", "--max_rows_per_table=2500");
  ASSERT_TRUE(Push(kSmall, Keys(2000, 500)).ok());
  ExpectRefused(Pull(kSmall, Keys(5000, 1)), "limit_exceeded", "--max_rows_per_table=2500");
  ASSERT_TRUE(Push(kSmall, Keys(0, 1000)).ok());  // existing rows: no growth

  // Memory per server: 2 MiB of rows. 2500 small rows take 50,000 bytes;
  // each 500 wide rows 520,000, so the fourth batch would pass the bound.
  for (int batch = 0; batch < 3; ++batch) {
    ASSERT_TRUE(Push(kWide, Keys(10000 + batch * 500, 500)).ok()) << batch;
  }
  ExpectRefused(Push(kWide, Keys(20000, 500)), "limit_exceeded", "--max_server_memory_mb=2");
  ASSERT_TRUE(Push(kWide, Keys(20000, 10)).ok());
  ASSERT_TRUE(Push(kWide, Keys(10000, 500)).ok());

  // Reply size: 1000 wide rows are 1,024,000 bytes, over 600,000.
  ExpectRefused(Pull(kWide, Keys(10000, 1000)), "too_large", "--max_message_bytes=600000");

  // The values show exactly the pushes that were accepted: one of 1.0 on
  // each key (lr 1, from 0), and nothing from the refused ones.
  std::vector<float> values;
  ASSERT_TRUE(client_->Pull(kSmall, 1, Keys(0, 1000), &values).ok());
  for (float v : values) ASSERT_EQ(v, -1.0f);
  ASSERT_TRUE(client_->Pull(kSmall, 1, Keys(2000, 500), &values).ok());
  for (float v : values) ASSERT_EQ(v, -1.0f);

  ASSERT_TRUE(testing::FinishAsWorker(*link_).ok());
  ASSERT_TRUE(cluster_->AwaitExit(std::chrono::seconds(20)).ok());
  const std::string log = testing::ReadFile(cluster_->dir().File("server-0.log"));
  EXPECT_EQ(testing::NumbersBefore(log, " over limits)"), std::vector<uint64_t>{5}) << log;
}

TEST(LimitsConfigTest, MoreTablesThanMaxTablesIsRefusedAtStart) {
  testing::ScratchDir dir;
  auto run = testing::RunBinary(
      "embedps-server",
      {"--scheduler=tcp://127.0.0.1:1", "--tables=name=a; name=b; name=c", "--max_tables=2"},
      dir.File("server.log"), std::chrono::seconds(20));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("3 tables declared, more than --max_tables=2"), std::string::npos)
      << run.output;
}

}  // namespace
}  // namespace embedps
