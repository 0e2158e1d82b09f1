// Kill -9 a worker mid-epoch without restarting it: its lease goes back to
// the queue from the last position it reported, the other worker trains
// the rest, and the job completes. The scheduler's record of the line
// ranges trained per partition must tile every partition of every pass
// exactly, counted against the file itself. LR, DeepFM with summed dense
// pushes, and a worker that is only stalled (SIGSTOP) past the timeout.
#include <gtest/gtest.h>

#include <signal.h>

#include <memory>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

// Waits until the scheduler's progress lines report `rows` rows trained:
// mid-lease (one long partition per worker and pass), and past heartbeats
// that reported how far (progress comes from the same heartbeats as the
// lease positions).
void AwaitRowsTrained(testing::FaultJob& job, uint64_t rows) {
  ASSERT_TRUE(job.AwaitOutput("cluster up", seconds(60))) << job.output();
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    // Only the progress lines: a checkpoint's line ("written: N rows, ...")
    // counts the rows stored, not trained.
    std::istringstream lines(job.output());
    std::string progress;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("progress: ", 0) == 0) progress += line + "\n";
    }
    const auto trained = testing::NumbersBefore(progress, " rows, ");
    if (!trained.empty() && trained.back() >= rows) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Kills a worker once `rows_before_kill` rows are trained and waits for the job.
void KillAWorkerMidLease(testing::FaultJob& job, uint64_t rows_before_kill) {
  ASSERT_NO_FATAL_FAILURE(AwaitRowsTrained(job, rows_before_kill));
  ASSERT_NE(job.Kill("embedps-worker"), 0) << "no worker to kill";
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  EXPECT_NE(job.output().find("presumed dead"), std::string::npos) << job.output();
}

// The scheduler's record of the line ranges trained must tile every
// partition of every pass exactly, counted against the file itself, and at
// least one lease must have been resumed mid-way.
void ExpectEveryLineTrainedOncePerPass(const nlohmann::json& stats, const std::string& train, int passes,
                                       uint64_t train_rows, bool failover = true) {
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
  if (failover) EXPECT_GE(stats.value("failovers", 0), 1);
}

constexpr char kOneLongLeaseEach[] =
    "--scheduler_flags=--node_timeout_ms=1500 --partitions_per_worker=1 --progress_interval_ms=100";

// A job of two workers with one long lease each, not restarting what dies;
// returns once `rows` rows are trained (mid-lease), with the workers' pids.
std::vector<pid_t> StartLongLeaseJob(std::unique_ptr<testing::FaultJob>* job, const testing::ScratchDir& dir,
                                     const testing::FaultData& data, int passes, uint64_t rows) {
  *job = std::make_unique<testing::FaultJob>(
      dir, "run",
      testing::FaultJobArgs(data, passes, 50, {"--http_port=-1", "--restart_failed=false", kOneLongLeaseEach}));
  AwaitRowsTrained(**job, rows);
  return (*job)->Daemons("embedps-worker");
}

TEST(WorkerFailoverTest, KilledWorkersPartitionsAreFinishedByTheOthers) {
  testing::ScratchDir dir;
  const auto data = testing::GenerateFaultData(dir, 120000, 5000, 41);
  const int passes = 3;
  testing::FaultJob job(dir, "run",
                        testing::FaultJobArgs(data, passes, 50,
                                              {"--http_port=-1", "--restart_failed=false", kOneLongLeaseEach}));
  ASSERT_NO_FATAL_FAILURE(KillAWorkerMidLease(job, 20000));
  ExpectEveryLineTrainedOncePerPass(job.TrainStats(), data.train, passes, 120000);
  // Issue #9, item 5: `rows` counts each input row once per pass (it used
  // to count the rows the killed worker pushed past its last reported
  // position twice); those retrained are counted apart.
  const auto summary = job.Summary();
  EXPECT_EQ(summary.value("rows", uint64_t{0}), uint64_t{120000} * passes) << summary.dump(2);
  EXPECT_TRUE(summary.contains("rows_retrained")) << summary.dump(2);
}

// The same with DeepFM summing its dense gradients over 4 batches (its lease
// commits wait for the summed push): the dead worker's lease resumes from
// its last acknowledged position, every line is still trained once per
// pass, and the model still learns.
TEST(WorkerFailoverTest, DeepFmWithSummedDensePushesLosesNoBatchToAKill) {
  testing::ScratchDir dir;
  // Partitions long enough (100,000 lines each) that the first progress
  // report, a heartbeat in, is still mid-lease: this small DeepFM trains
  // about 150,000 rows/s here.
  const auto data = testing::GenerateFaultData(dir, 200000, 5000, 43);
  const int passes = 2;
  testing::FaultJob job(dir, "run",
                        testing::FaultJobArgs(data, passes, 100,
                                              {"--http_port=-1", "--restart_failed=false", "--model=deepfm",
                                               "--hidden=16,16", "--factors=4", "--dense_pull_every=4",
                                               "--dense_push_every=4", kOneLongLeaseEach}));
  ASSERT_NO_FATAL_FAILURE(KillAWorkerMidLease(job, 8000));
  ExpectEveryLineTrainedOncePerPass(job.TrainStats(), data.train, passes, 200000);
  auto summary = job.Summary();
  EXPECT_EQ(summary.value("model", ""), "deepfm");
  EXPECT_GT(summary.value("test_auc", 0.0), 0.62) << summary.dump(2);
}

// True when a worker's log holds `text`; fails the test on a crash banner
// in either (glog's signal handler prints "*** Aborted at" or "*** SIGSEGV").
bool AWorkerLogSays(const testing::FaultJob& job, const std::string& text) {
  bool found = false;
  for (const char* log : {"/logs/worker-0.log", "/logs/worker-1.log"}) {
    const std::string contents = testing::ReadFile(job.run_dir() + log);
    found |= contents.find(text) != std::string::npos;
    EXPECT_EQ(contents.find("*** "), std::string::npos) << log << ": " << contents;
  }
  return found;
}

// A worker stalled (SIGSTOP) past the node timeout is presumed dead and its
// lease requeued; when it resumes (SIGCONT) the scheduler tells it to
// register again, it rejoins as a new worker, and the job still trains every
// line of every pass.
TEST(WorkerFailoverTest, AStalledWorkerIsPresumedDeadAndRejoinsAsANewWorker) {
  testing::ScratchDir dir;
  // Enough rows that the other worker is still training when the stalled
  // one resumes (else the job may end before it speaks again).
  const auto data = testing::GenerateFaultData(dir, 400000, 5000, 47);
  const int passes = 3;
  std::unique_ptr<testing::FaultJob> owned;
  const auto workers = StartLongLeaseJob(&owned, dir, data, passes, 20000);
  testing::FaultJob& job = *owned;
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_EQ(kill(workers[0], SIGSTOP), 0);
  const bool presumed_dead = job.AwaitOutput("presumed dead", seconds(30));
  ASSERT_EQ(kill(workers[0], SIGCONT), 0);
  ASSERT_TRUE(presumed_dead) << job.output();
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  const auto stats = job.TrainStats();
  ExpectEveryLineTrainedOncePerPass(stats, data.train, passes, 400000);
  const std::string sched = testing::ReadFile(job.run_dir() + "/logs/scheduler.log");
  EXPECT_NE(sched.find("a new worker"), std::string::npos) << sched;
  EXPECT_TRUE(AWorkerLogSays(job, "presumed dead (missed heartbeats); register again"))
      << "no worker was told to register again";
  // Its pushes in flight were acknowledged before it registered again.
  EXPECT_FALSE(AWorkerLogSays(job, "flushing pushes before rejoining"));
}

// Issue #9: SIGTERM to a worker (a pod being evicted) hands its lease back
// from the last acknowledged line and the worker leaves with exit code 0, no
// crash banner; the others train the rest, every line once per pass.
TEST(WorkerFailoverTest, AWorkerSentSigtermHandsItsLeaseBackAndLeaves) {
  testing::ScratchDir dir;
  const auto data = testing::GenerateFaultData(dir, 120000, 5000, 59);
  const int passes = 2;
  std::unique_ptr<testing::FaultJob> owned;
  const auto workers = StartLongLeaseJob(&owned, dir, data, passes, 20000);
  testing::FaultJob& job = *owned;
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_EQ(kill(workers[0], SIGTERM), 0);
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  EXPECT_NE(job.output().find("left the job; 1 lease(s) go back to the queue"), std::string::npos) << job.output();
  EXPECT_EQ(job.output().find("presumed dead"), std::string::npos) << "it left, it did not die: " << job.output();
  ExpectEveryLineTrainedOncePerPass(job.TrainStats(), data.train, passes, 120000, /*failover=*/false);
  EXPECT_TRUE(AWorkerLogSays(job, "SIGTERM: handing the lease back"));
}

}  // namespace
}  // namespace embedps
