// The restore's read-ahead: blocks come out in file order, walk after walk,
// each checked; an error from the loader or from the file stops the walk
// with that error, and nothing is handed out after it.
#include "ps/checkpoint/block_pipeline.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "ps/checkpoint/file_format.h"
#include "tests/support/test_dirs.h"
#include "tests/unit/ps/checkpoint_test_util.h"

namespace embedps::ps::checkpoint {
namespace {

class BlockPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto table = NewTable(TestConfig("emb", 4, "adagrad"));
    // 20,000 rows over 64 stripes: one block per stripe at least.
    PushRandom(*table, KeyRange(1, 20000), 1, 1);
    path_ = dir_.File("full.ckpt");
    WriteCheckpoint({table.get()}, FullCut(1), path_);
  }

  // Every rows block of the file, read and checked one by one.
  std::vector<uint64_t> BlockIndexes() {
    auto reader = FileReader::Open(path_);
    EXPECT_TRUE(reader.ok());
    std::vector<uint64_t> out;
    BlockRef b;
    std::vector<char> payload;
    while (true) {
      auto more = reader->Next(&b, &payload, BlockType::kRows);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      if (b.header.type == BlockType::kRows) out.push_back(b.index);
    }
    return out;
  }

  testing::ScratchDir dir_;
  std::string path_;
};

TEST_F(BlockPipelineTest, HandsOverEveryBlockInOrderWalkAfterWalk) {
  const std::vector<uint64_t> want = BlockIndexes();
  ASSERT_GE(want.size(), 64u);
  auto reader = FileReader::Open(path_);
  ASSERT_TRUE(reader.ok());
  // The same file walked twice: the second walk starts over.
  std::vector<BlockWalk> walks = {{&*reader, BlockType::kRows, 0}, {&*reader, BlockType::kRows, 1}};
  std::vector<uint64_t> seen[2];
  uint64_t rows = 0;
  Status st = ReadAheadEach(walks, [&](const BlockWalk& walk, const BlockRef& block, const char* payload) {
    seen[walk.file_index].push_back(block.index);
    // The payload is the block's own: its first key is a row of the file.
    uint64_t key;
    std::memcpy(&key, payload, 8);
    EXPECT_NE(key, 0u);
    rows += block.header.count;
    return Status::OK();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen[0], want);
  EXPECT_EQ(seen[1], want);
  EXPECT_EQ(rows, 2 * 20000u);
}

TEST_F(BlockPipelineTest, AnErrorFromTheLoaderStopsTheWalk) {
  auto reader = FileReader::Open(path_);
  ASSERT_TRUE(reader.ok());
  int calls = 0;
  Status st = ReadAheadEach({{&*reader, BlockType::kRows, 0}}, [&](const BlockWalk&, const BlockRef&, const char*) {
    return ++calls == 3 ? Internal("loader gave up") : Status::OK();
  });
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 3);
}

TEST_F(BlockPipelineTest, ADamagedBlockEndsTheWalkAfterTheGoodOnesBeforeIt) {
  std::string bytes;
  {
    std::ifstream in(path_, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x10;  // inside a block in the middle
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  auto reader = FileReader::Open(path_);
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> seen;
  Status st = ReadAheadEach({{&*reader, BlockType::kRows, 0}}, [&](const BlockWalk&, const BlockRef& b, const char*) {
    seen.push_back(b.index);
    return Status::OK();
  });
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("bad checksum in block"), std::string::npos) << st.ToString();
  // The blocks before the damage were handed out, in order, and none after.
  ASSERT_FALSE(seen.empty());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
  EXPECT_NE(st.message().find("block " + std::to_string(seen.size())), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace embedps::ps::checkpoint
