// Kill -9 a worker mid-epoch without restarting it: its lease goes back to
// the queue from the last position it reported, the other worker trains
// the rest, and the job completes. The scheduler's record of the line
// ranges trained per partition must tile every partition of every pass
// exactly, counted against the file itself. LR, and DeepFM with summed
// dense pushes.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

// Kills a worker once the scheduler reports `rows_before_kill` rows trained
// (mid-lease: one long partition per worker and pass) and waits for the job.
void KillAWorkerMidLease(testing::FaultJob& job, uint64_t rows_before_kill) {
  ASSERT_TRUE(job.AwaitOutput("cluster up", seconds(60))) << job.output();
  // Mid-lease, and past heartbeats that reported how far: the scheduler's
  // progress (from the same heartbeats as the lease positions) shows rows.
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto rows = testing::NumbersBefore(job.output(), " rows, ");
    if (!rows.empty() && rows.back() >= rows_before_kill) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(job.Kill("embedps-worker"), 0) << "no worker to kill";
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  EXPECT_NE(job.output().find("presumed dead"), std::string::npos) << job.output();
}

// The scheduler's record of the line ranges trained must tile every
// partition of every pass exactly, counted against the file itself, and at
// least one lease must have been resumed mid-way.
void ExpectEveryLineTrainedOncePerPass(const nlohmann::json& stats, const std::string& train, int passes,
                                       uint64_t train_rows) {
  ASSERT_TRUE(stats.contains("partition_plan")) << stats.dump(2);
  const auto& plan = stats["partition_plan"];
  const auto& trained = stats["trained_ranges"];
  uint64_t lines_in_file = 0;
  for (const auto& p : plan) lines_in_file += testing::CountLines(train, p["begin"], p["end"]);
  ASSERT_EQ(lines_in_file, train_rows);
  size_t resumed = 0;
  for (int pass = 0; pass < passes; ++pass) {
    for (const auto& p : plan) {
      const uint64_t id = pass * plan.size() + p["id"].get<uint64_t>();
      const uint64_t lines = testing::CountLines(train, p["begin"], p["end"]);
      ASSERT_TRUE(trained.contains(std::to_string(id))) << "partition " << id << " never trained";
      // Ranges follow each other without a gap from line 0 to the end.
      uint64_t at = 0;
      for (const auto& r : trained[std::to_string(id)]) {
        EXPECT_EQ(r[0].get<uint64_t>(), at) << "partition " << id << ": " << trained[std::to_string(id)].dump();
        at = r[1].get<uint64_t>();
      }
      EXPECT_EQ(at, lines) << "partition " << id << ": " << trained[std::to_string(id)].dump();
      resumed += trained[std::to_string(id)].size() > 1;
    }
  }
  EXPECT_GE(resumed, 1u) << "the killed worker's lease was not resumed mid-way: " << trained.dump();
  EXPECT_GE(stats.value("failovers", 0), 1);
}

constexpr char kOneLongLeaseEach[] =
    "--scheduler_flags=--node_timeout_ms=1500 --partitions_per_worker=1 --progress_interval_ms=100";

TEST(WorkerFailoverTest, KilledWorkersPartitionsAreFinishedByTheOthers) {
  testing::ScratchDir dir;
  const auto data = testing::GenerateFaultData(dir, 120000, 5000, 41);
  const int passes = 3;
  testing::FaultJob job(dir, "run",
                        testing::FaultJobArgs(data, passes, 50,
                                              {"--http_port=-1", "--restart_failed=false", kOneLongLeaseEach}));
  ASSERT_NO_FATAL_FAILURE(KillAWorkerMidLease(job, 20000));
  ExpectEveryLineTrainedOncePerPass(job.TrainStats(), data.train, passes, 120000);
}

// The same with DeepFM summing its dense gradients over 4 batches (its lease
// commits wait for the summed push): the dead worker's lease resumes from
// its last acknowledged position, every line is still trained once per
// pass, and the model still learns.
TEST(WorkerFailoverTest, DeepFmWithSummedDensePushesLosesNoBatchToAKill) {
  testing::ScratchDir dir;
  const auto data = testing::GenerateFaultData(dir, 40000, 5000, 43);
  const int passes = 2;
  testing::FaultJob job(dir, "run",
                        testing::FaultJobArgs(data, passes, 100,
                                              {"--http_port=-1", "--restart_failed=false", "--model=deepfm",
                                               "--hidden=16,16", "--factors=4", "--dense_pull_every=4",
                                               "--dense_push_every=4", kOneLongLeaseEach}));
  ASSERT_NO_FATAL_FAILURE(KillAWorkerMidLease(job, 8000));
  ExpectEveryLineTrainedOncePerPass(job.TrainStats(), data.train, passes, 40000);
  auto summary = job.Summary();
  EXPECT_EQ(summary.value("model", ""), "deepfm");
  EXPECT_GT(summary.value("test_auc", 0.0), 0.62) << summary.dump(2);
}

}  // namespace
}  // namespace embedps
