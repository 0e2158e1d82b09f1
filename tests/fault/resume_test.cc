// Whole-job restarts from checkpoints: a job checkpointed with 2 servers
// resumes onto 3 (rows re-sharded on load) and exports exactly the rows it
// had; a damaged newest checkpoint is detected and the previous one used.
#include <gtest/gtest.h>

#include <fstream>

#include "scheduler/manifest.h"
#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = testing::GenerateFaultData(dir_, 30000, 2000, 51);
    checkpoints_ = dir_.File("checkpoints");
  }
  std::vector<std::string> Args(int servers, int passes, const std::vector<std::string>& extra) const {
    // --servers comes last and wins over the shared default of 2.
    std::vector<std::string> args = {"--http_port=-1", "--servers=" + std::to_string(servers),
                                     // A checkpoint at every pass end, however short the pass.
                                     "--scheduler_flags=--checkpoint_min_gap_s=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::FaultJobArgs(data_, passes, 500, args);
  }
  // Runs a job that checkpoints into checkpoints_ and must succeed.
  void RunFirst(testing::FaultJob& job) {
    ASSERT_EQ(job.Wait(seconds(120)), 0) << job.output();
  }

  testing::ScratchDir dir_;
  testing::FaultData data_;
  std::string checkpoints_;
};

TEST_F(ResumeTest, ResumingOntoMoreServersGivesIdenticalRows) {
  testing::FaultJob first(dir_, "first", Args(2, 1, {"--checkpoint_dir=" + checkpoints_}));
  RunFirst(first);
  // The job ended with a checkpoint of its final state.
  EXPECT_NE(first.output().find("end of training) written"), std::string::npos) << first.output();

  testing::FaultJob second(dir_, "second", Args(3, 1, {"--resume=" + checkpoints_}));
  ASSERT_EQ(second.Wait(seconds(120)), 0) << second.output();
  EXPECT_NE(second.output().find("written by 2 servers, restoring onto 3"), std::string::npos) << second.output();

  const auto before = testing::ReadExportedRows(first.run_dir() + "/model");
  const auto after = testing::ReadExportedRows(second.run_dir() + "/model");
  ASSERT_FALSE(before.empty());
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [table, rows] : before) {
    ASSERT_EQ(rows.size(), after.at(table).size()) << "table " << table;
    for (const auto& [key, values] : rows) {
      auto it = after.at(table).find(key);
      ASSERT_NE(it, after.at(table).end()) << "key " << key << " lost";
      ASSERT_EQ(it->second, values) << "key " << key << " changed";
    }
  }
  EXPECT_EQ(second.Summary().value("test_auc", 0.0), first.Summary().value("test_auc", 1.0));
}

// --resume=auto, the mode for jobs a manager restarts (a Slurm requeue, a
// pod restart): the same command starts a new job when the run directory
// has no checkpoint, and resumes when it has one.
TEST_F(ResumeTest, ResumeAutoStartsFreshThenResumesTheSameRunDirectory) {
  testing::ModelRows before;
  {
    testing::FaultJob first(dir_, "auto", Args(2, 1, {"--resume=auto"}));
    RunFirst(first);
    EXPECT_NE(first.output().find("--resume=auto: no checkpoint in"), std::string::npos) << first.output();
    before = testing::ReadExportedRows(first.run_dir() + "/model");
  }
  testing::FaultJob again(dir_, "auto", Args(2, 1, {"--resume=auto"}));
  ASSERT_EQ(again.Wait(seconds(120)), 0) << again.output();
  EXPECT_NE(again.output().find("--resume=auto: resuming from"), std::string::npos) << again.output();
  EXPECT_NE(again.output().find("partitions done"), std::string::npos) << again.output();
  EXPECT_EQ(testing::ReadExportedRows(again.run_dir() + "/model"), before);
}

// A checkpoint carries its model: resuming needs no model flags, and flags
// that name another model are refused before anything starts.
TEST_F(ResumeTest, ResumeTakesTheCheckpointsModelAndRefusesAnother) {
  testing::FaultJob first(dir_, "first", Args(2, 1, {"--checkpoint_dir=" + checkpoints_, "--model=fm", "--factors=4"}));
  RunFirst(first);
  const auto trained = testing::ReadExportedRows(first.run_dir() + "/model");
  ASSERT_FALSE(trained.empty());

  testing::FaultJob second(dir_, "second", Args(2, 1, {"--resume=" + checkpoints_}));
  ASSERT_EQ(second.Wait(seconds(120)), 0) << second.output();
  EXPECT_NE(second.output().find("the checkpoint's model: --model=fm --factors=4"), std::string::npos)
      << second.output();
  EXPECT_EQ(second.Summary().value("model", ""), "fm");
  // The same rows (fm's [weight, 4 factors]), not an LR model over them.
  EXPECT_EQ(testing::ReadExportedRows(second.run_dir() + "/model"), trained);

  testing::FaultJob third(dir_, "third", Args(2, 1, {"--resume=" + checkpoints_, "--model=fm", "--factors=8"}));
  EXPECT_NE(third.Wait(seconds(60)), 0) << third.output();
  EXPECT_NE(third.output().find("spec.factors: 4 in the checkpoint, 8 in this job"), std::string::npos)
      << third.output();
}

TEST_F(ResumeTest, DamagedCheckpointIsDetectedAndThePreviousOneUsed) {
  testing::FaultJob first(dir_, "first", Args(2, 2, {"--checkpoint_dir=" + checkpoints_}));
  RunFirst(first);
  const auto ids = scheduler::ListCheckpoints(checkpoints_);
  ASSERT_GE(ids.size(), 2u) << first.output();
  // One flipped byte in the middle of the newest checkpoint's first file.
  const std::string victim = scheduler::CheckpointDir(checkpoints_, ids.back()) + "/server-0.ckpt";
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << victim;
    f.seekg(0, std::ios::end);
    const std::streamoff middle = f.tellg() / 2;
    f.seekg(middle);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x5a;
    f.seekp(middle);
    f.write(&c, 1);
  }
  testing::FaultJob second(dir_, "second", Args(2, 2, {"--resume=" + checkpoints_}));
  ASSERT_EQ(second.Wait(seconds(120)), 0) << second.output();
  const std::string out = second.output();
  EXPECT_NE(out.find("checkpoint " + std::to_string(ids.back()) + " is unusable"), std::string::npos) << out;
  EXPECT_NE(out.find("resuming from checkpoint " + std::to_string(ids[ids.size() - 2])), std::string::npos) << out;
  EXPECT_GT(second.Summary().value("test_auc", 0.0), 0.6);
}

}  // namespace
}  // namespace embedps
