// The handoff file of applied request ids: a round trip, and damage or a
// different window detected instead of loaded.
#include "ps/replication/applied_ids_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps::ps {
namespace {

TEST(AppliedIdsFileTest, RoundTripsAndRefusesDamage) {
  testing::ScratchDir dir;
  RequestDedup d(256);
  for (uint64_t id : {1, 2, 300}) {
    ASSERT_EQ(d.Claim(7, id), RequestDedup::Verdict::kNew);
    d.Finish(7, id, true);
  }
  ASSERT_EQ(d.Claim(9, 5), RequestDedup::Verdict::kNew);
  d.Finish(9, 5, true);
  const std::string path = dir.File("ids.bin");
  ASSERT_TRUE(WriteAppliedIds(path, d.window(), d.ExportApplied()).ok());

  auto ids = ReadAppliedIds(path, d.window());
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  RequestDedup copy(256);
  ASSERT_TRUE(copy.ImportApplied(*ids).ok());
  EXPECT_EQ(copy.Claim(7, 300), RequestDedup::Verdict::kApplied);
  EXPECT_EQ(copy.Claim(9, 5), RequestDedup::Verdict::kApplied);
  EXPECT_EQ(copy.Claim(9, 6), RequestDedup::Verdict::kNew);

  EXPECT_EQ(ReadAppliedIds(path, 512).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadAppliedIds(dir.File("missing.bin"), 256).status().code(), StatusCode::kNotFound);
  // One flipped byte, then a truncation: both detected.
  std::string bytes = testing::ReadFile(path);
  bytes[30] ^= 0x10;
  std::ofstream(dir.File("flipped.bin"), std::ios::binary) << bytes;
  EXPECT_EQ(ReadAppliedIds(dir.File("flipped.bin"), 256).status().code(), StatusCode::kDataLoss);
  bytes[30] ^= 0x10;
  std::ofstream(dir.File("short.bin"), std::ios::binary) << bytes.substr(0, bytes.size() - 9);
  EXPECT_EQ(ReadAppliedIds(dir.File("short.bin"), 256).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace embedps::ps
