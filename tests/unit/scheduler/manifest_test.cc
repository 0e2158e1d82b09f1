#include "scheduler/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/test_dirs.h"
#include "tests/unit/ps/checkpoint_test_util.h"

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

// A restarted server reads only the files that can hold its rows: of each
// level of the chain, the files of the ranks that owned one of its virtual
// shards at that cut (the map may have changed between levels).
TEST(ManifestTest, ChainFilesKeepsTheFilesOfTheShardsOwnersAtEachCut) {
  testing::ScratchDir dir;
  const std::vector<std::string> three = {"server-0.ckpt", "server-1.ckpt", "server-2.ckpt"};
  Manifest full = Make(5, {5});
  full.num_servers = 3;
  full.num_virtual_shards = 6;
  full.owners = {0, 1, 2, 0, 1, 2};
  full.files = three;
  Put(dir.path(), full);
  Manifest delta = Make(6, {5, 6});
  delta.num_servers = 3;
  delta.num_virtual_shards = 6;
  delta.owners = {0, 1, 2, 2, 1, 1};  // shard 3 moved from 0 to 2, shard 5 from 2 to 1
  delta.files = three;
  Put(dir.path(), delta);
  auto back = ReadManifest(dir.path(), 6);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->owners, delta.owners);

  // Rank 2 today owns shards 2 and 3: at the full cut they were 2's and
  // 0's, at the delta both 2's.
  const std::vector<bool> of_two = {false, false, true, true, false, false};
  auto chain = ChainFiles(dir.path(), *back, of_two);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0], (std::vector<std::string>{CheckpointDir(dir.path(), 5) + "/server-0.ckpt",
                                                   CheckpointDir(dir.path(), 5) + "/server-2.ckpt"}));
  EXPECT_EQ((*chain)[1], (std::vector<std::string>{CheckpointDir(dir.path(), 6) + "/server-2.ckpt"}));

  // No shards named, or a manifest without its map (written before maps
  // were recorded), or one of another shard count: every file.
  auto all = ChainFiles(dir.path(), *back, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].size(), 3u);
  Manifest old = delta;
  old.owners.clear();
  EXPECT_EQ(FilesHolding(old, of_two), three);
  EXPECT_EQ(FilesHolding(delta, std::vector<bool>(12, true)), three);
}

TEST(ManifestTest, RecordsTheModelAndOlderManifestsHaveNone) {
  testing::ScratchDir dir;
  Manifest m = Make(3, {3});
  m.model = {{"spec", {{"model", "fm"}, {"factors", 4}}}, {"data_format", "criteo"}};
  Put(dir.path(), m);
  Put(dir.path(), Make(4, {4}));  // as written before models were recorded
  auto with = ReadManifest(dir.path(), 3);
  auto without = ReadManifest(dir.path(), 4);
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_EQ(with->model, m.model);
  EXPECT_TRUE(without->model.is_null());
}

TEST(ManifestTest, ResumingAnotherModelIsRefusedNamingEachDifference) {
  const nlohmann::json fm4 = {{"spec", {{"model", "fm"}, {"factors", 4}}},
                              {"tables", {{{"id", 0}, {"dim", 5}}}},
                              {"data_format", "criteo"},
                              {"training", {{"rows", 10}}}};
  nlohmann::json same = fm4;
  same["training"] = nlohmann::json::object();  // training figures do not count
  EXPECT_TRUE(CheckSameModel(fm4, same).ok());
  EXPECT_TRUE(CheckSameModel(nlohmann::json(), fm4).ok());  // an old checkpoint
  EXPECT_TRUE(CheckSameModel(fm4, nlohmann::json()).ok());  // daemons by hand

  nlohmann::json other = fm4;
  other["spec"]["factors"] = 8;
  other["tables"][0]["dim"] = 9;
  other["data_format"] = "libsvm";
  const Status st = CheckSameModel(fm4, other);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("spec.factors: 4 in the checkpoint, 8 in this job"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("data_format: \"criteo\" in the checkpoint, \"libsvm\" in this job"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("tables:"), std::string::npos) << st.message();
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

// Writes a real server file of checkpoint `id` for `rank` (a few rows).
void PutServerFile(const std::string& root, uint64_t id, uint32_t rank, const std::string& name) {
  namespace ck = ps::checkpoint;
  auto table = ck::NewTable(ck::TestConfig("emb", 4, "sgd"));
  ck::PushRandom(*table, ck::KeyRange(1, 50), 1, 3);
  std::filesystem::create_directories(CheckpointDir(root, id));
  ck::WriteCheckpoint({table.get()}, ck::FullCut(id, rank), CheckpointDir(root, id) + "/" + name);
}

// Issue #9, item 1: a checkpoint written while one server was presumed dead
// held only the other server's file, was called complete, and --resume
// restored half the model from it. Every rank's file must be there and be
// that rank's file of that checkpoint.
TEST(ManifestTest, ACheckpointMissingARanksFileIsIncompleteAndNeverResumedFrom) {
  testing::ScratchDir dir;
  Manifest whole = Make(1, {1});
  whole.files = {"server-0.ckpt", "server-1.ckpt"};
  PutServerFile(dir.path(), 1, 0, "server-0.ckpt");
  PutServerFile(dir.path(), 1, 1, "server-1.ckpt");
  Put(dir.path(), whole);
  EXPECT_TRUE(CheckComplete(dir.path(), whole, /*deep=*/true).ok());

  // Checkpoint 2 lists (and has) only server 1's file.
  Manifest half = Make(2, {2});
  half.files = {"server-1.ckpt"};
  PutServerFile(dir.path(), 2, 1, "server-1.ckpt");
  Put(dir.path(), half);
  const Status st = CheckComplete(dir.path(), half, /*deep=*/false);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("no file of server 0"), std::string::npos) << st.message();

  std::vector<std::string> skipped;
  auto latest = LatestUsableCheckpoint(dir.path(), &skipped);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->id, 1u) << "the incomplete checkpoint 2 must be passed over";
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("checkpoint 2 is unusable"), std::string::npos) << skipped[0];
}

TEST(ManifestTest, AFileOfAnotherRankOrCheckpointIsRefused) {
  testing::ScratchDir dir;
  // server-1.ckpt really holds rank 0's rows (copied by hand, say).
  Manifest m = Make(3, {3});
  m.files = {"server-0.ckpt", "server-1.ckpt"};
  PutServerFile(dir.path(), 3, 0, "server-0.ckpt");
  PutServerFile(dir.path(), 3, 0, "server-1.ckpt");
  Put(dir.path(), m);
  Status st = CheckComplete(dir.path(), m, /*deep=*/false);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("not server 1's"), std::string::npos) << st.message();
  // A file of checkpoint 3 in checkpoint 4's directory.
  Manifest other = Make(4, {4});
  other.files = {"server-0.ckpt", "server-1.ckpt"};
  PutServerFile(dir.path(), 4, 0, "server-0.ckpt");
  std::filesystem::copy_file(CheckpointDir(dir.path(), 3) + "/server-1.ckpt",
                             CheckpointDir(dir.path(), 4) + "/server-1.ckpt");
  st = CheckComplete(dir.path(), other, /*deep=*/false);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
}

// Issue #9, item 4: an abandoned checkpoint's files (a server that wrote
// before another failed) are removed, manifests and all others kept.
TEST(ManifestTest, IncompleteCheckpointDirectoriesAreRemoved) {
  testing::ScratchDir dir;
  Manifest whole = Make(1, {1});
  Put(dir.path(), whole);
  PutServerFile(dir.path(), 2, 0, "server-0.ckpt");  // abandoned: no manifest
  PutServerFile(dir.path(), 5, 0, "server-0.ckpt");  // still being written
  EXPECT_EQ(RemoveIncompleteCheckpoints(dir.path(), 5), 1u);
  EXPECT_TRUE(std::filesystem::exists(CheckpointDir(dir.path(), 1)));
  EXPECT_FALSE(std::filesystem::exists(CheckpointDir(dir.path(), 2)));
  EXPECT_TRUE(std::filesystem::exists(CheckpointDir(dir.path(), 5)));
  RemoveCheckpointDir(dir.path(), 5);
  EXPECT_FALSE(std::filesystem::exists(CheckpointDir(dir.path(), 5)));
}

}  // namespace
}  // namespace embedps::scheduler
