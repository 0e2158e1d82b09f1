#include "scheduler/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/test_dirs.h"

namespace embedps::scheduler {
namespace {

Manifest Make(uint64_t id, std::vector<uint64_t> chain) {
  Manifest m;
  m.id = id;
  m.delta = chain.size() > 1;
  m.chain = std::move(chain);
  m.num_servers = 2;
  m.num_virtual_shards = 1024;
  m.shard_map_epoch = 3;
  m.partitions = {{"total", 0}};
  m.progress.rows = 1000 * id;
  m.progress.loss_sum = 0.5;
  return m;
}

// Writes a manifest whose directory exists (servers create it in a job).
void Put(const std::string& root, const Manifest& m) {
  std::filesystem::create_directories(CheckpointDir(root, m.id));
  ASSERT_TRUE(WriteManifest(root, m).ok());
}

TEST(ManifestTest, WritesAndReadsBack) {
  testing::ScratchDir dir;
  Manifest m = Make(7, {5, 6, 7});
  m.files = {"server-0.ckpt", "server-1.ckpt"};
  Put(dir.path(), m);
  auto back = ReadManifest(dir.path(), 7);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->chain, m.chain);
  EXPECT_TRUE(back->delta);
  EXPECT_EQ(back->files, m.files);
  EXPECT_EQ(back->progress.rows, 7000u);
  EXPECT_EQ(back->shard_map_epoch, 3u);
  EXPECT_FALSE(std::filesystem::exists(CheckpointDir(dir.path(), 7) + "/MANIFEST.json.tmp"));
}

TEST(ManifestTest, DamagedOrMisplacedManifestIsDataLoss) {
  testing::ScratchDir dir;
  Put(dir.path(), Make(2, {2}));
  std::ofstream(CheckpointDir(dir.path(), 2) + "/MANIFEST.json") << "{\"format_version\": 1, \"id\"";
  EXPECT_EQ(ReadManifest(dir.path(), 2).status().code(), StatusCode::kDataLoss);
  // A manifest copied into another checkpoint's directory is refused.
  Put(dir.path(), Make(3, {3}));
  std::filesystem::create_directories(CheckpointDir(dir.path(), 4));
  std::filesystem::copy_file(CheckpointDir(dir.path(), 3) + "/MANIFEST.json",
                             CheckpointDir(dir.path(), 4) + "/MANIFEST.json");
  EXPECT_EQ(ReadManifest(dir.path(), 4).status().code(), StatusCode::kDataLoss);
}

TEST(ManifestTest, PruneKeepsTheNewestAndWhatTheirChainsNeed) {
  testing::ScratchDir dir;
  Put(dir.path(), Make(1, {1}));
  Put(dir.path(), Make(2, {2}));
  Put(dir.path(), Make(3, {2, 3}));
  Put(dir.path(), Make(4, {2, 3, 4}));
  Put(dir.path(), Make(5, {2, 3, 4, 5}));
  EXPECT_EQ(PruneCheckpoints(dir.path(), 2), 1u);  // only 1: 2 and 3 are in 5's chain
  EXPECT_EQ(ListCheckpoints(dir.path()), (std::vector<uint64_t>{2, 3, 4, 5}));
}

TEST(ManifestTest, NoUsableCheckpointIsNotFound) {
  testing::ScratchDir dir;
  std::vector<std::string> skipped;
  EXPECT_EQ(LatestUsableCheckpoint(dir.path(), &skipped).status().code(), StatusCode::kNotFound);
  // A manifest naming a server file that is missing is passed over.
  Manifest m = Make(1, {1});
  m.files = {"server-0.ckpt"};
  Put(dir.path(), m);
  EXPECT_EQ(LatestUsableCheckpoint(dir.path(), &skipped).status().code(), StatusCode::kNotFound);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("checkpoint 1 is unusable"), std::string::npos) << skipped[0];
}

}  // namespace
}  // namespace embedps::scheduler
