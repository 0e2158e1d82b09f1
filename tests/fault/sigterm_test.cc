// SIGTERM, what process managers (Kubernetes, Slurm's --signal, Docker)
// send before they kill, is a request to stop well, never a crash (issue
// #9): to the launcher or the scheduler it stops the job as POST /stop does
// (workers stop, a final checkpoint, the export, exit 0); to a server it
// leaves the job and its rank goes to a standby. (A worker's SIGTERM is in
// worker_failover_test.cc.) No daemon prints glog's crash banner for it.
#include <gtest/gtest.h>

#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

class SigtermTest : public ::testing::Test {
 protected:
  void SetUp() override { data_ = testing::GenerateFaultData(dir_, 60000, 10000, 67); }
  // Long enough (200 passes) that only a stop ends it within the test.
  std::vector<std::string> Args(std::vector<std::string> extra) const {
    extra.insert(extra.begin(), {"--checkpoint_interval_s=1", "--http_port=-1",
                                 "--scheduler_flags=--node_timeout_ms=1500 --checkpoint_min_gap_s=0"});
    return testing::FaultJobArgs(data_, 200, 200, extra);
  }
  // Every log of the run: none may hold glog's crash banner.
  void ExpectNoCrashBanner(const testing::FaultJob& job) {
    for (const auto& e : std::filesystem::directory_iterator(job.run_dir() + "/logs")) {
      const std::string text = testing::ReadFile(e.path().string());
      EXPECT_EQ(text.find("*** SIGTERM"), std::string::npos) << e.path() << ": " << text;
      EXPECT_EQ(text.find("*** Aborted"), std::string::npos) << e.path() << ": " << text;
    }
  }
  // A job stopped on request: exit 0, stopped in the summary, a final
  // checkpoint, an exported model that was evaluated.
  void ExpectStoppedWell(testing::FaultJob& job) {
    ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
    const std::string out = job.output();
    EXPECT_NE(out.find("stop requested (SIGTERM)"), std::string::npos) << out;
    EXPECT_NE(out.find("end of training) written"), std::string::npos) << out;
    auto summary = job.Summary();
    EXPECT_TRUE(summary.value("stopped", false)) << summary.dump(2);
    EXPECT_GT(summary.value("test_auc", 0.0), 0.6) << summary.dump(2);
    EXPECT_LT(summary.value("rows", uint64_t{0}), uint64_t{60000} * 200) << "it stopped early";
    ExpectNoCrashBanner(job);
  }

  testing::ScratchDir dir_;
  testing::FaultData data_;
};

TEST_F(SigtermTest, TheLauncherStopsTheJobWell) {
  testing::FaultJob job(dir_, "launcher", Args({}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  ASSERT_TRUE(job.SignalLauncher(SIGTERM));
  ASSERT_NO_FATAL_FAILURE(ExpectStoppedWell(job));
  EXPECT_NE(job.output().find("SIGTERM: stopping the job"), std::string::npos) << job.output();
}

TEST_F(SigtermTest, TheSchedulerStopsTheJobWell) {
  testing::FaultJob job(dir_, "scheduler", Args({}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  const auto scheduler = job.Daemons("embedps-scheduler");
  ASSERT_EQ(scheduler.size(), 1u);
  ASSERT_EQ(kill(scheduler[0], SIGTERM), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectStoppedWell(job));
}

// A Slurm time limit with --signal, `docker compose stop`, a node drain:
// every daemon gets SIGTERM at once. Workers hand back their leases, the
// servers stay for the final checkpoint and the export, and the job still
// ends well.
TEST_F(SigtermTest, EveryDaemonAtOnceStillStopsWell) {
  testing::FaultJob job(dir_, "all", Args({}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  const auto daemons = job.Daemons("embedps-");
  ASSERT_EQ(daemons.size(), 5u);
  for (pid_t pid : daemons) ASSERT_EQ(kill(pid, SIGTERM), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectStoppedWell(job));
}

TEST_F(SigtermTest, AServerLeavesAndAStandbyTakesItsRank) {
  testing::FaultJob job(dir_, "server", testing::FaultJobArgs(data_, 30, 200,
                                                              {"--checkpoint_interval_s=1", "--standby_servers=1",
                                                               "--restart_failed=false",
                                                               "--scheduler_flags=--node_timeout_ms=1500 "
                                                               "--checkpoint_min_gap_s=0"}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  const auto servers = job.Daemons("http/server-");
  ASSERT_FALSE(servers.empty());
  ASSERT_EQ(kill(servers[0], SIGTERM), 0);
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  const std::string out = job.output();
  EXPECT_NE(out.find("got SIGTERM and leaves the job"), std::string::npos) << out;
  EXPECT_NE(out.find("is back (shard map epoch 2)"), std::string::npos) << out;
  EXPECT_NE(out.find("was replaced (after a stall or a SIGTERM) and left the job; not starting it again"),
            std::string::npos) << out;
  EXPECT_EQ(job.Summary().value("rows", uint64_t{0}), uint64_t{60000} * 30);
  bool left = false;
  for (const char* log : {"/logs/server-0.log", "/logs/server-1.log"}) {
    left |= testing::ReadFile(job.run_dir() + log).find("SIGTERM: asking the scheduler to replace") != std::string::npos;
  }
  EXPECT_TRUE(left);
  ExpectNoCrashBanner(job);
}

}  // namespace
}  // namespace embedps
