// A checkpoint is the table exactly as it was at the cut, although pushes,
// pulls that create rows and evictions go on while it is written (copy on
// write at stripe granularity).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/test_dirs.h"
#include "tests/unit/ps/checkpoint_test_util.h"

namespace embedps::ps::checkpoint {
namespace {

using embedps::testing::ScratchDir;

// Keeps pushing (new keys too), pulling and evicting until stopped; can be
// paused, and says when it is.
class Trainer {
 public:
  explicit Trainer(EmbeddingTable& t) : table_(t), thread_([this] { Run(); }) {}
  ~Trainer() {
    stop_ = true;
    thread_.join();
  }
  void Pause() {
    pause_ = true;
    while (!paused_) std::this_thread::yield();
  }
  void Resume() {
    paused_ = false;
    pause_ = false;
  }
  uint64_t requests() const { return requests_; }

 private:
  void Run() {
    std::mt19937_64 rng(3);
    const uint32_t dim = table_.config().dim;
    std::vector<uint64_t> keys(256);
    std::vector<float> grads(keys.size() * dim, 0.01f), out(keys.size() * dim);
    uint64_t next_new = 1u << 30;
    while (!stop_) {
      if (pause_) {
        paused_ = true;
        while (pause_ && !stop_) std::this_thread::yield();
        continue;
      }
      for (auto& k : keys) k = (rng() % 40000) * 0x9e3779b97f4a7c15ULL;
      keys[0] = next_new++ * 0x9e3779b97f4a7c15ULL;
      EXPECT_TRUE(table_.Push(keys.data(), keys.size(), grads.data()).ok());
      table_.Pull(keys.data() + 128, 128, out.data());
      if (++requests_ % 16 == 0) table_.EvictIdle();
    }
  }

  EmbeddingTable& table_;
  std::atomic<bool> stop_{false}, pause_{false}, paused_{false};
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

TEST(CheckpointConsistencyTest, SnapshotEqualsTheTableAtTheCutWhilePushesGoOn) {
  TableConfig c = TestConfig("emb", 16, "adagrad");
  c.evict_after_steps = 200;  // rows carry stamps, and some get evicted
  auto table = NewTable(c);
  PushRandom(*table, KeyRange(0, 40000), 1, 1);
  ScratchDir dir;
  Trainer trainer(*table);
  while (trainer.requests() < 300) std::this_thread::yield();

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    trainer.Pause();
    auto writer = Cut({table.get()}, round == 0 ? FullCut(1) : DeltaCut(2, 1));
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    const Rows expected = Dump(*table);
    trainer.Resume();
    // Requests from this thread too, so that some stripes are surely
    // copied by a request before the writer gets to them.
    PushRandom(*table, KeyRange(0, 2000), 3, 7);
    const uint64_t before = trainer.requests();
    const std::string path = dir.File("c" + std::to_string(round));
    auto stats = (*writer)->Write(path);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_GT(stats->max_request_stall_seconds, 0.0);
    EXPECT_NE(Dump(*table), expected) << "the table should have moved on after the cut";
    // (The delta holds about every row: the trainer's pulls stamp rows.)
    if (round == 1) EXPECT_GT(stats->tombstones + stats->rows, 0u);
    auto restored = NewTable(c);
    std::vector<std::vector<std::string>> chain = {{dir.File("c0")}};
    if (round == 1) chain.push_back({path});
    auto r = Restore(chain, OwnAll, {restored.get()});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Dump(*restored), expected);
    GTEST_LOG_(INFO) << "round " << round << ": " << trainer.requests() - before
                     << " trainer requests during Write, rows " << stats->rows << ", stall "
                     << stats->max_request_stall_seconds * 1e3 << " ms";
  }
}

}  // namespace
}  // namespace embedps::ps::checkpoint
