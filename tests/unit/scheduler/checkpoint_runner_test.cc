// A checkpoint's stages with scripted replies and a fake clock: pause, cut,
// resume, write, manifest; full and delta; a worker dying during the pause;
// a server failing; an incomplete set of files; late and stray answers.
#include "scheduler/checkpoint_runner.h"

#include <map>

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace embedps::scheduler {
namespace {

using std::chrono::milliseconds;

// Complete when every server's file is there; remembers what was written,
// removed and pruned.
class FakeStore : public CheckpointStore {
 public:
  const std::string& root() const override { return root_; }
  Status Prepare() override { return Status::OK(); }
  bool Exists() const override { return true; }
  std::vector<uint64_t> List() const override {
    std::vector<uint64_t> ids;
    for (const auto& [id, m] : manifests) ids.push_back(id);
    return ids;
  }
  StatusOr<Manifest> LatestUsable(std::vector<std::string>*) const override {
    if (manifests.empty()) return NotFound("none");
    return manifests.rbegin()->second;
  }
  Status CheckComplete(const Manifest& m) const override {
    if (m.files.size() != m.num_servers) return DataLoss("missing a server's file");
    return Status::OK();
  }
  Status WriteManifest(const Manifest& m) override {
    if (disk_full) return Unavailable("disk full");
    manifests[m.id] = m;
    return Status::OK();
  }
  StatusOr<std::vector<std::vector<std::string>>> ChainFiles(const Manifest&,
                                                             const std::vector<bool>&) const override {
    return std::vector<std::vector<std::string>>{};
  }
  void Remove(uint64_t id) override { removed.push_back(id); }
  size_t RemoveIncomplete(uint64_t) override { return 0; }
  size_t Prune(uint32_t keep) override {
    size_t n = 0;
    while (manifests.size() > keep) {
      manifests.erase(manifests.begin());
      ++n;
    }
    return n;
  }

  std::map<uint64_t, Manifest> manifests;
  std::vector<uint64_t> removed;
  bool disk_full = false;

 private:
  std::string root_ = "/ckpt";
};

Manifest Skeleton(uint32_t servers) {
  Manifest m;
  m.num_servers = servers;
  m.shard_map_epoch = 3;
  return m;
}

wire::CheckpointReplyMsg Cut(uint64_t id) {
  wire::CheckpointReplyMsg r;
  r.id = id;
  r.ok = true;
  r.written = false;
  return r;
}

wire::CheckpointReplyMsg Wrote(uint64_t id, uint32_t rank, uint64_t rows) {
  wire::CheckpointReplyMsg r;
  r.id = id;
  r.ok = true;
  r.written = true;
  r.path = "/ckpt/ckpt-" + std::to_string(id) + "/server-" + std::to_string(rank);
  r.rows = rows;
  return r;
}

const auto kAllAlive = [](uint32_t) { return true; };

CheckpointRunner::CutFacts Facts(uint64_t rows) {
  CheckpointRunner::CutFacts f;
  f.progress.rows = rows;
  f.partitions = {{"trained", rows}};
  return f;
}

// Runs one whole checkpoint with workers {1, 2} and servers {10, 11}.
uint64_t RunOne(CheckpointRunner& r, double at_s, uint64_t rows) {
  const auto t = kStart + milliseconds(static_cast<int64_t>(at_s * 1000));
  r.Begin(Skeleton(2), "interval", t, {1, 2});
  const uint64_t id = r.next_id() - 1;
  r.OnPaused(1, id);
  r.OnPaused(2, id);
  r.Cut(Facts(rows), {10, 11}, "/ckpt/dir");
  EXPECT_TRUE(r.OnReply(10, Cut(id)).ok());
  EXPECT_TRUE(r.OnReply(11, Cut(id)).ok());
  r.Resume(t, {10, 11}, kAllAlive);
  EXPECT_TRUE(r.OnReply(10, Wrote(id, 0, 5)).ok());
  EXPECT_TRUE(r.OnReply(11, Wrote(id, 1, 5)).ok());
  EXPECT_TRUE(r.ReadyToFinish());
  EXPECT_TRUE(r.Finish(t + milliseconds(100)).ok());
  return id;
}

TEST(CheckpointRunnerTest, StagesInOrder) {
  FakeStore store;
  CheckpointRunner r(&store, {4, 3});
  const auto pauses = r.Begin(Skeleton(2), "first", kStart, {1, 2});
  ASSERT_EQ(pauses.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<wire::PauseTrainingMsg>(pauses[0].body));
  EXPECT_EQ(r.stage(), CheckpointRunner::Stage::kPausing);
  EXPECT_TRUE(r.OnPaused(1, 1));
  EXPECT_FALSE(r.ReadyToCut()) << "worker 2 has not paused";
  EXPECT_FALSE(r.OnPaused(2, 99)) << "a pause for another checkpoint: resume that worker";
  EXPECT_TRUE(r.OnPaused(2, 1));
  ASSERT_TRUE(r.ReadyToCut());
  const auto cuts = r.Cut(Facts(500), {10, 11}, "/ckpt/ckpt-1");
  ASSERT_EQ(cuts.size(), 2u);
  const auto& cut = std::get<wire::CheckpointMsg>(cuts[1].body);
  EXPECT_EQ(cuts[1].node, 11u);
  EXPECT_EQ(cut.id, 1u);
  EXPECT_FALSE(cut.delta);
  EXPECT_EQ(cut.directory, "/ckpt/ckpt-1");
  // A server that writes before every cut is in is not counted yet.
  EXPECT_TRUE(r.OnReply(10, Wrote(1, 0, 7)).ok());
  EXPECT_TRUE(r.OnReply(10, Cut(1)).ok());
  EXPECT_FALSE(r.ReadyToResume());
  EXPECT_TRUE(r.OnReply(11, Cut(1)).ok());
  ASSERT_TRUE(r.ReadyToResume());
  // Worker 2 died meanwhile: only worker 1 is resumed.
  const auto resumes = r.Resume(kStart + milliseconds(40), {10, 11}, [](uint32_t id) { return id == 1; });
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0].node, 1u);
  EXPECT_TRUE(r.OnReply(10, Wrote(1, 0, 7)).ok());
  EXPECT_FALSE(r.ReadyToFinish());
  EXPECT_TRUE(r.OnReply(11, Wrote(1, 1, 8)).ok());
  ASSERT_TRUE(r.ReadyToFinish());
  auto written = r.Finish(kStart + milliseconds(250));
  ASSERT_TRUE(written.ok()) << written.status().message();
  EXPECT_EQ(written->manifest.rows, 15u);
  EXPECT_EQ(written->manifest.progress.rows, 500u);
  EXPECT_DOUBLE_EQ(written->manifest.pause_seconds, 0.04);
  EXPECT_DOUBLE_EQ(written->manifest.seconds, 0.25);
  EXPECT_EQ(written->manifest.files, (std::vector<std::string>{"server-0", "server-1"}));
  EXPECT_FALSE(r.running());
  ASSERT_TRUE(r.last().has_value());
  EXPECT_EQ(r.last()->id, 1u);
  EXPECT_EQ(store.manifests.count(1), 1u);
}

TEST(CheckpointRunnerTest, DeltasBetweenFullOnesAndFullAfterAFailure) {
  FakeStore store;
  CheckpointRunner r(&store, {/*full_every=*/3, /*keep=*/10});
  RunOne(r, 1, 100);
  RunOne(r, 2, 200);
  RunOne(r, 3, 300);
  RunOne(r, 4, 400);
  EXPECT_FALSE(store.manifests.at(1).delta);
  EXPECT_TRUE(store.manifests.at(2).delta);
  EXPECT_EQ(store.manifests.at(3).chain, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_FALSE(store.manifests.at(4).delta) << "every third is full";
  r.ForceFull();  // a failover
  RunOne(r, 5, 500);
  EXPECT_FALSE(store.manifests.at(5).delta);
}

TEST(CheckpointRunnerTest, AbandonedOnAServerErrorAndRemoved) {
  FakeStore store;
  CheckpointRunner r(&store, {4, 3});
  RunOne(r, 1, 100);
  r.Begin(Skeleton(2), "interval", kStart, {1, 2});
  r.OnPaused(1, 2);
  r.WorkerGone(2);  // died: the cut does not wait for it
  ASSERT_TRUE(r.ReadyToCut());
  r.Cut(Facts(150), {10, 11}, "/d");
  wire::CheckpointReplyMsg failed = Cut(2);
  failed.ok = false;
  failed.error = "No space left on device";
  const Status st = r.OnReply(10, failed);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("No space left"), std::string::npos);
  const auto gone = r.Abandon([](uint32_t id) { return id != 2; });
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->id, 2u);
  ASSERT_EQ(gone->resumes.size(), 1u) << "the paused live worker goes on";
  EXPECT_EQ(store.removed, std::vector<uint64_t>{2});
  EXPECT_EQ(r.last()->id, 1u) << "the previous checkpoint stays the latest";
  EXPECT_TRUE(r.OnReply(11, Cut(2)).ok()) << "a late answer to an abandoned checkpoint is ignored";
  EXPECT_FALSE(r.running());
  RunOne(r, 3, 200);
  EXPECT_FALSE(store.manifests.at(3).delta) << "partial files cannot anchor a delta";
}

TEST(CheckpointRunnerTest, NeverCallsAnIncompleteOneComplete) {
  FakeStore store;
  CheckpointRunner r(&store, {4, 3});
  r.Begin(Skeleton(/*servers=*/3), "interval", kStart, {});
  ASSERT_TRUE(r.ReadyToCut()) << "no worker to pause";
  r.Cut(Facts(0), {10, 11}, "/d");  // only two of three ranks serve
  r.OnReply(10, Cut(1));
  r.OnReply(11, Cut(1));
  r.Resume(kStart, {10, 11}, kAllAlive);
  r.OnReply(10, Wrote(1, 0, 1));
  r.OnReply(11, Wrote(1, 1, 1));
  ASSERT_TRUE(r.ReadyToFinish());
  EXPECT_EQ(r.Finish(kStart).status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(r.running()) << "for the caller to abandon";
  EXPECT_TRUE(store.manifests.empty());
  EXPECT_FALSE(r.last().has_value());
}

TEST(CheckpointRunnerTest, IdsFollowAnEarlierJobAndAResume) {
  FakeStore store;
  CheckpointRunner r(&store, {4, 3});
  r.NumberAfter(41);
  EXPECT_EQ(r.next_id(), 42u);
  Manifest resumed = Skeleton(2);
  resumed.id = 40;
  resumed.chain = {40};
  r.ResumedFrom(resumed, /*newest=*/45);  // 41..45 are damaged: never overwritten
  EXPECT_EQ(r.next_id(), 46u);
  EXPECT_EQ(r.last()->id, 40u);
  r.Begin(Skeleton(2), "x", kStart, {});
  r.Cut(Facts(0), {10}, "/d");
  EXPECT_FALSE(r.stage() == CheckpointRunner::Stage::kPausing);
  EXPECT_TRUE(r.Abandon(kAllAlive).has_value());
}

}  // namespace
}  // namespace embedps::scheduler
