// Kill -9 a server mid-training: the scheduler notices the missed
// heartbeats, gives its rank to a replacement (the process `embedps local`
// restarts, or a standby started with --standby_servers), which restores
// the rank's rows from the latest checkpoint; workers resend their
// unanswered requests to it and the job completes. Its test AUC must be
// within 0.005 of a fault-free run on the same data and seed.
#include <gtest/gtest.h>

#include <thread>

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
  // What the failover lost is said, on the console and in the summary.
  EXPECT_NE(out.find("restored from checkpoint"), std::string::npos) << out;
  ASSERT_TRUE(summary["failover_details"].is_array()) << summary.dump(2);
  ASSERT_FALSE(summary["failover_details"].empty()) << summary.dump(2);
  const auto& failover = summary["failover_details"][0];
  EXPECT_TRUE(failover.contains("lost_rows")) << failover.dump();
  EXPECT_TRUE(failover.contains("lost_training_seconds")) << failover.dump();
  EXPECT_EQ(summary.value("lost_rows", uint64_t{1}), failover.value("lost_rows", uint64_t{0}));
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

// Issue #9, item 3: a server killed before the job's first checkpoint used
// to come back with its rows at their initial values while the job went on
// and exited 0 (a quarter of the model's rows reset). Its rows cannot be
// restored, so the job must fail and say why.
TEST_F(ServerFailoverTest, AServerKilledBeforeTheFirstCheckpointFailsTheJobLoudly) {
  const auto data = testing::GenerateFaultData(dir_, 300000, 1000, 37);
  testing::FaultJob job(dir_, "early", testing::FaultJobArgs(data, 1, 50, {"--checkpoint_interval_s=0",
                                                                   "--scheduler_flags=--node_timeout_ms=1500 "
                                                                   "--first_checkpoint_s=0"}));
  ASSERT_TRUE(job.AwaitOutput("cluster up", seconds(60))) << job.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_NE(job.Kill("http/server-"), 0) << "no server to kill";
  const int code = job.Wait(seconds(120));
  const std::string out = job.output();
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(code, -1) << out;
  EXPECT_NE(out.find("died before the job's first checkpoint"), std::string::npos) << out;
}

// The first checkpoint comes --first_checkpoint_s after training starts,
// long before the interval, so that window stays short.
TEST_F(ServerFailoverTest, TheFirstCheckpointComesEarly) {
  testing::FaultJob job(dir_, "first", testing::FaultJobArgs(data_, 20, 100, {"--checkpoint_interval_s=600",
                                                                      "--scheduler_flags=--first_checkpoint_s=1"}));
  EXPECT_TRUE(job.AwaitOutput("checkpoint 1 (full, first) written", seconds(60))) << job.output();
  ASSERT_EQ(job.Wait(seconds(180)), 0) << job.output();
}

}  // namespace
}  // namespace embedps
