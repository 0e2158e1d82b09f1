// Kill -9 a server mid-training: the scheduler notices the missed
// heartbeats, gives its rank to a replacement (the process `embedps local`
// restarts, or a standby started with --standby_servers), which restores
// the rank's rows from the latest checkpoint; workers resend their
// unanswered requests to it and the job completes. Its test AUC must be
// within 0.005 of a fault-free run on the same data and seed.
#include <gtest/gtest.h>

#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

class ServerFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = testing::GenerateFaultData(dir_, 60000, 20000, 31);
  }
  // The job every run of this test trains; `extra` flags go last.
  std::vector<std::string> Args(std::vector<std::string> extra) const {
    // Detect the death quickly; the job is short.
    extra.insert(extra.begin(), {"--checkpoint_interval_s=1",
                                 "--scheduler_flags=--node_timeout_ms=1500 --checkpoint_min_gap_s=0"});
    return testing::FaultJobArgs(data_, 6, 200, extra);
  }
  double FaultFreeAuc() {
    testing::FaultJob clean(dir_, "clean", Args({}));
    EXPECT_EQ(clean.Wait(seconds(120)), 0) << clean.output();
    return clean.Summary().value("test_auc", 0.0);
  }

  testing::ScratchDir dir_;
  testing::FaultData data_;
};

TEST_F(ServerFailoverTest, RestartedServerTakesOverAndAucMatchesAFaultFreeRun) {
  const double clean_auc = FaultFreeAuc();
  ASSERT_GT(clean_auc, 0.6);

  testing::FaultJob job(dir_, "faulty", Args({}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  ASSERT_NE(job.Kill("embedps-server"), 0) << "no server to kill";
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  const std::string out = job.output();
  EXPECT_NE(out.find("was killed by signal 9; restarting it"), std::string::npos) << out;
  EXPECT_NE(out.find("presumed dead"), std::string::npos) << out;
  EXPECT_NE(out.find("is back (shard map epoch 2)"), std::string::npos) << out;
  auto summary = job.Summary();
  EXPECT_GE(summary.value("failovers", 0), 1) << summary.dump(2);
  EXPECT_EQ(summary.value("rows", 0), 60000 * 6) << "every partition of every pass trained exactly once";
  EXPECT_NEAR(summary.value("test_auc", 0.0), clean_auc, 0.005) << out;
}

TEST_F(ServerFailoverTest, StandbyTakesOverWhenTheDeadServerIsNotRestarted) {
  testing::FaultJob job(dir_, "standby", Args({"--standby_servers=1", "--restart_failed=false"}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  // Primaries write http/server-N.url; the standby http/standby-N.url.
  ASSERT_NE(job.Kill("http/server-"), 0) << "no primary server to kill";
  ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  const std::string out = job.output();
  EXPECT_NE(out.find("not restarting it (--restart_failed=false)"), std::string::npos) << out;
  EXPECT_NE(out.find("is back (shard map epoch 2)"), std::string::npos) << out;
  const std::string sched = testing::ReadFile(job.run_dir() + "/logs/scheduler.log");
  EXPECT_NE(sched.find("promoting standby server 2"), std::string::npos) << sched;
  EXPECT_GT(job.Summary().value("test_auc", 0.0), 0.6);
}

}  // namespace
}  // namespace embedps
