// Kill -9 the scheduler mid-training: `embedps local` restarts it on the
// same endpoint with --resume; it loads the newest checkpoint's partition
// state, the live servers rejoin with their rank and rows, the workers
// rejoin, and the job completes having trained every row of every pass
// (the rows trained between the checkpoint and the kill are counted once:
// they are trained again from the checkpoint's positions).
#include <gtest/gtest.h>

#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

TEST(SchedulerRestartTest, KilledSchedulerResumesAndTheLiveNodesRejoin) {
  testing::ScratchDir dir;
  const auto data = testing::GenerateFaultData(dir, 60000, 10000, 61);
  const int passes = 5;
  testing::FaultJob job(dir, "run",
                        testing::FaultJobArgs(data, passes, 200,
                                              {"--checkpoint_interval_s=1",
                                               // Checkpoints at pass ends from the start, so the kill lands mid-job.
                                               "--scheduler_flags=--checkpoint_min_gap_s=0"}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  const auto servers = job.Daemons("embedps-server");
  ASSERT_NE(job.Kill("embedps-scheduler"), 0) << "no scheduler to kill";
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  const std::string out = job.output();
  EXPECT_NE(out.find("restarting it with --resume"), std::string::npos) << out;
  EXPECT_NE(out.find("resuming from checkpoint"), std::string::npos) << out;
  // The servers were not restarted: the same processes rejoined.
  EXPECT_EQ(out.find("server-0 (pid"), std::string::npos) << out;
  EXPECT_EQ(out.find("server-1 (pid"), std::string::npos) << out;
  EXPECT_EQ(servers.size(), 2u);
  for (const char* log : {"/logs/server-0.log", "/logs/server-1.log", "/logs/worker-0.log"}) {
    EXPECT_NE(testing::ReadFile(job.run_dir() + log).find("rejoining the restarted scheduler"), std::string::npos)
        << log;
  }
  // The workers' pushes in flight were acknowledged before they rejoined,
  // and nothing crashed (glog's signal handler prints "*** Aborted at" or
  // "*** SIGSEGV").
  for (const char* log : {"/logs/worker-0.log", "/logs/worker-1.log"}) {
    const std::string text = testing::ReadFile(job.run_dir() + log);
    EXPECT_EQ(text.find("flushing pushes before rejoining"), std::string::npos) << log << ": " << text;
    EXPECT_EQ(text.find("*** "), std::string::npos) << log << ": " << text;
  }
  auto summary = job.Summary();
  EXPECT_EQ(summary.value("rows", 0), 60000 * passes) << summary.dump(2);
  EXPECT_GT(summary.value("test_auc", 0.0), 0.6);
}

}  // namespace
}  // namespace embedps
