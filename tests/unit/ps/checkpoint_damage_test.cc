// Damaged and mismatched checkpoints: a flipped byte, a truncated file,
// another format version or table configuration is refused with a Status
// that says what is wrong, before any row is loaded, so the tables stay as
// they were.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ps/checkpoint/file_format.h"
#include "tests/support/test_dirs.h"
#include "tests/unit/ps/checkpoint_test_util.h"

namespace embedps::ps::checkpoint {
namespace {

using embedps::testing::ScratchDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class CheckpointDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = TestConfig("emb", 4, "adagrad");
    source_ = NewTable(config_);
    PushRandom(*source_, KeyRange(1, 20000), 1, 1);
    full_ = dir_.File("full.ckpt");
    WriteCheckpoint({source_.get()}, FullCut(1), full_);
    PushRandom(*source_, KeyRange(1, 100), 1, 2);
    delta_ = dir_.File("delta.ckpt");
    WriteCheckpoint({source_.get()}, DeltaCut(2, 1), delta_);
    // The table restores go into holds rows of its own, which must survive.
    target_ = NewTable(config_);
    PushRandom(*target_, KeyRange(900000, 50), 1, 3);
    before_ = Dump(*target_);
  }

  // Restores full + delta into target_; expects `code` with `text` in the
  // message and the target unchanged.
  void ExpectRefused(StatusCode code, const std::string& text) {
    auto r = Restore({{full_}, {delta_}}, OwnAll, {target_.get()});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().ToString();
    EXPECT_EQ(Dump(*target_), before_);
  }

  ScratchDir dir_;
  TableConfig config_;
  std::unique_ptr<EmbeddingTable> source_, target_;
  std::string full_, delta_;
  Rows before_;
};

TEST_F(CheckpointDamageTest, IntactChainRestores) {
  ASSERT_TRUE(Verify(full_).ok());
  ASSERT_TRUE(Verify(delta_).ok());
  auto r = Restore({{full_}, {delta_}}, OwnAll, {target_.get()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_loaded, 20000u);
  EXPECT_TRUE(r->verified_first) << "a table with rows is checked in full before loading";
  // A table that never held a row is read once, checked as it loads.
  auto fresh = NewTable(config_);
  auto once = Restore({{full_}, {delta_}}, OwnAll, {fresh.get()});
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  EXPECT_FALSE(once->verified_first);
  EXPECT_EQ(Dump(*fresh), Dump(*source_));
}

// The one-pass restore into a table that never held a row finds damage
// only when it reaches the block, after loading the blocks before it: the
// table must end as it began (empty, push counter where it was), and take
// a good chain afterwards.
TEST_F(CheckpointDamageTest, DamageFoundWhileLoadingLeavesAFreshTableEmpty) {
  auto fresh = NewTable(config_);
  ASSERT_TRUE(fresh->IsPristine());
  const std::string good = ReadAll(delta_);
  std::string bytes = good;
  bytes[bytes.size() - kFooterBytes - 10] ^= 1;  // the delta's last block
  WriteAll(delta_, bytes);
  auto r = Restore({{full_}, {delta_}}, OwnAll, {fresh.get()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("the tables are empty again"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(fresh->size(), 0u);
  EXPECT_TRUE(Dump(*fresh).empty());
  EXPECT_EQ(fresh->step(), 0u);
  EXPECT_TRUE(fresh->IsPristine());

  // Damage in the middle of the full checkpoint: half of it was loaded.
  std::string full = ReadAll(full_);
  full[full.size() * 3 / 4] ^= 0x20;
  WriteAll(full_, full);
  WriteAll(delta_, good);
  r = Restore({{full_}, {delta_}}, OwnAll, {fresh.get()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad checksum in block"), std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(Dump(*fresh).empty());
  EXPECT_TRUE(fresh->IsPristine());
}

TEST_F(CheckpointDamageTest, FlippedByteInABlockIsDataLossNamingTheBlock) {
  std::string bytes = ReadAll(full_);
  // Past the header and the first block: inside block 3's payload or later.
  const size_t at = bytes.size() * 3 / 4;
  bytes[at] ^= 0x20;
  WriteAll(full_, bytes);
  const Status v = Verify(full_);
  EXPECT_EQ(v.code(), StatusCode::kDataLoss);
  EXPECT_NE(v.message().find("bad checksum in block"), std::string::npos) << v.ToString();
  EXPECT_NE(v.message().find(full_), std::string::npos) << v.ToString();
  ExpectRefused(StatusCode::kDataLoss, "bad checksum in block");
}

TEST_F(CheckpointDamageTest, DamagedDeltaLeavesTheTablesUnchanged) {
  // The full checkpoint is intact; only the last file of the chain is bad,
  // and nothing may be loaded from the first either.
  std::string bytes = ReadAll(delta_);
  bytes[bytes.size() - kFooterBytes - 10] ^= 1;
  WriteAll(delta_, bytes);
  ExpectRefused(StatusCode::kDataLoss, "bad checksum in block");
}

TEST(CheckpointDamageSweepTest, EveryFlippedByteIsDetected) {
  // A small delta (rows and tombstones): flip each byte in turn.
  TableConfig c = TestConfig("emb", 2, "adam");
  c.evict_after_steps = 2;
  auto t = NewTable(c);
  PushRandom(*t, KeyRange(1, 30), 1, 1);
  ScratchDir dir;
  WriteCheckpoint({t.get()}, FullCut(1), dir.File("full"));
  PushRandom(*t, KeyRange(1, 10), 3, 2);
  ASSERT_GT(t->EvictIdle(), 0u);
  const std::string path = dir.File("delta");
  const WriteStats w = WriteCheckpoint({t.get()}, DeltaCut(2, 1), path);
  ASSERT_GT(w.tombstones, 0u);
  const std::string good = ReadAll(path);
  ASSERT_TRUE(Verify(path).ok());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x10;
    WriteAll(path, bad);
    const Status st = Verify(path);
    ASSERT_EQ(st.code(), StatusCode::kDataLoss) << "flip at byte " << i << " of " << good.size();
  }
}

TEST_F(CheckpointDamageTest, FlippedHeaderOrFooterByteIsDataLoss) {
  const std::string good = ReadAll(full_);
  std::string bytes = good;
  bytes[20] ^= 4;  // in the header body
  WriteAll(full_, bytes);
  ExpectRefused(StatusCode::kDataLoss, "bad checksum in the header");
  bytes = good;
  bytes[bytes.size() - 20] ^= 4;  // a footer count
  WriteAll(full_, bytes);
  ExpectRefused(StatusCode::kDataLoss, "footer");
}

TEST_F(CheckpointDamageTest, TruncatedFileIsDataLoss) {
  const std::string bytes = ReadAll(full_);
  for (size_t cut : {size_t{1}, size_t{kFooterBytes}, bytes.size() / 2, bytes.size() - 10}) {
    SCOPED_TRACE(cut);
    WriteAll(full_, bytes.substr(0, bytes.size() - cut));
    ExpectRefused(StatusCode::kDataLoss, "truncated");
  }
  // A footer spliced onto a shorter file: counts disagree.
  const size_t data_end = bytes.size() - kFooterBytes;
  WriteAll(full_, bytes.substr(0, data_end / 2) + bytes.substr(data_end));
  ExpectRefused(StatusCode::kDataLoss, full_);
}

TEST_F(CheckpointDamageTest, OtherFormatVersionIsRefused) {
  std::string bytes = ReadAll(full_);
  const uint32_t seven = 7;
  std::memcpy(&bytes[8], &seven, 4);
  WriteAll(full_, bytes);
  ExpectRefused(StatusCode::kDataLoss, "format version 7, this build reads 1");
}

TEST_F(CheckpointDamageTest, NotACheckpointIsRefused) {
  WriteAll(full_, std::string(4096, 'x'));
  ExpectRefused(StatusCode::kDataLoss, "bad magic");
  std::filesystem::remove(full_);
  ExpectRefused(StatusCode::kNotFound, "does not exist");
}

TEST_F(CheckpointDamageTest, TableConfigMismatchIsFailedPrecondition) {
  struct Case {
    TableConfig config;
    const char* field;
  };
  std::vector<Case> cases;
  TableConfig c = config_;
  c.dim = 8;
  cases.push_back({c, "dim is 4 in the checkpoint, 8 here"});
  c = config_;
  c.name = "other";
  cases.push_back({c, "name is 'emb' in the checkpoint, 'other' here"});
  c = config_;
  c.optimizer.name = "adam";
  cases.push_back({c, "optimizer is 'adagrad' in the checkpoint, 'adam' here"});
  c = config_;
  c.fp16 = true;
  cases.push_back({c, "fp16"});
  for (const Case& k : cases) {
    SCOPED_TRACE(k.field);
    auto other = NewTable(k.config);
    auto r = Restore({{full_}}, OwnAll, {other.get()});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(r.status().message().find(k.field), std::string::npos) << r.status().ToString();
    EXPECT_EQ(other->size(), 0u);
  }
  auto second = NewTable(TestConfig("second", 4, "adagrad", 1));
  auto r = Restore({{full_}}, OwnAll, {target_.get(), second.get()});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("1 tables, this server 2"), std::string::npos);
  EXPECT_EQ(Dump(*target_), before_);
}

TEST_F(CheckpointDamageTest, HyperParametersAndEvictionMayChange) {
  TableConfig c = config_;
  c.optimizer.learning_rate = 0.5f;
  c.evict_after_steps = 10;  // the file has no stamps: rows count as just touched
  auto other = NewTable(c);
  auto r = Restore({{full_}, {delta_}}, OwnAll, {other.get()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(other->size(), 20000u);
  EXPECT_EQ(other->EvictIdle(), 0u);
  EXPECT_EQ(other->Export().values.size(), source_->Export().values.size());
}

}  // namespace
}  // namespace embedps::ps::checkpoint
