// launch/slurm/embedps.sbatch run as sbatch would run it, with stand-ins for
// srun and scontrol (tests/launchers/fake_slurm) that start the tasks on this
// machine: the script's rank logic, ports and flag routing start a real job
// on 127.0.0.1.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"
#include "tests/support/test_sshd.h"  // FreePortRange
#include "tests/support/exported_eval.h"

namespace embedps {
namespace {

using std::chrono::seconds;

class SlurmLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/bin/bash", X_OK) != 0) GTEST_SKIP() << "bash is not installed";
    base_port_ = testing::FreePortRange(3);
    ASSERT_NE(base_port_, 0);
    token_ = "slurm-test-" + std::to_string(getpid()) + "-" + std::to_string(base_port_);
    train_ = testing::GenerateCriteoFile(dir_, "train.tsv", 20000, 1);
  }

  // Runs the sbatch script for a 5-task job (scheduler, 2 servers, 2 workers).
  testing::RunResult Sbatch(std::vector<std::string> flags, std::vector<std::string> env = {}) {
    const std::string fake = testing::SourceDir() + "/tests/launchers/fake_slurm";
    std::vector<std::string> args = {
        "PATH=" + fake + ":/usr/local/bin:/usr/bin:/bin", "SLURM_JOB_ID=4242",
        "SLURM_JOB_NODELIST=fake[1]", "SLURM_NTASKS=5", "SLURM_SUBMIT_DIR=" + dir_.path()};
    args.insert(args.end(), env.begin(), env.end());
    args.insert(args.end(), {
        "/bin/bash", testing::SourceDir() + "/launch/slurm/embedps.sbatch",
        "--servers=2", "--remote_bin_dir=" + testing::BinDir(), "--bind_host=127.0.0.1",
        "--base_port=" + std::to_string(base_port_), "--train=" + train_,
        "--node_flags=--cluster_token=" + token_});
    args.insert(args.end(), flags.begin(), flags.end());
    // A log of its own per run: the output is read back from it.
    return testing::RunProgram("/usr/bin/env", args, dir_.File("sbatch-" + std::to_string(runs_++) + ".log"),
                               seconds(120));
  }

  testing::ScratchDir dir_;
  int runs_ = 0;
  int base_port_ = 0;
  std::string token_;
  std::string train_;
};

TEST_F(SlurmLauncherTest, RanksBecomeSchedulerServersAndWorkers) {
  // --flagfile feeds the script's own flags, as gflags' does for embedps.
  const std::string flagfile = dir_.Write("job.flags",
                                          "# job settings\n"
                                          "--passes=3\n"
                                          "--model_dir=" + dir_.File("model") + "\n");
  auto r = Sbatch({"--flagfile=" + flagfile, "--optimizer=adagrad", "--batch_size=500"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 servers and 2 workers"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("trained 60000 rows"), std::string::npos) << r.output;

  const std::string logs = dir_.File("embedps-4242/logs/");
  const std::string sched = testing::ReadFile(logs + "scheduler.log");
  // CURVE is on by default: keys made in the run directory, one per task,
  // each task admitted with its own.
  EXPECT_NE(r.output.find("CURVE is on: keys from " + dir_.File("embedps-4242/keys")), std::string::npos)
      << r.output;
  for (const char* key : {"CURVE key server-0", "CURVE key server-1", "CURVE key worker-0",
                          "CURVE key worker-1"}) {
    EXPECT_NE(sched.find(key), std::string::npos) << key << ": " << sched;
  }
  EXPECT_NE(sched.find("listening on tcp://127.0.0.1:" + std::to_string(base_port_)), std::string::npos)
      << sched;
  // Servers are tasks 1 and 2: ports base+1 and base+2, advertised by node name.
  for (int s = 0; s < 2; ++s) {
    const std::string log = testing::ReadFile(logs + "server-" + std::to_string(s) + ".log");
    EXPECT_NE(log.find("listening on tcp://127.0.0.1:" + std::to_string(base_port_ + 1 + s)), std::string::npos)
        << log;
  }
  for (int w = 0; w < 2; ++w) {
    EXPECT_TRUE(std::filesystem::exists(logs + "worker-" + std::to_string(w) + ".log")) << w;
  }
  auto eval = testing::EvaluateExportedLr(dir_.File("model"), train_);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_GT(eval->auc, 0.65);
  EXPECT_TRUE(testing::AwaitNoProcessMatching(token_, seconds(3)).empty());
}

// The model flags go through `embedps node-flags`: the servers build the
// model's tables from the declarations, the workers train that model, and
// the servers export it.
TEST_F(SlurmLauncherTest, TheModelFlagsReachTheServersAndWorkers) {
  auto r = Sbatch({"--model=fm", "--model_flags=--factors=4", "--model_dir=" + dir_.File("model"), "--insecure"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("trained 20000 rows"), std::string::npos) << r.output;
  const std::string logs = dir_.File("embedps-4242/logs/");
  for (int s = 0; s < 2; ++s) {
    const std::string log = testing::ReadFile(logs + "server-" + std::to_string(s) + ".log");
    EXPECT_NE(log.find("table factors:"), std::string::npos) << log;
  }
  const std::string worker = testing::ReadFile(logs + "worker-0.log");
  EXPECT_NE(worker.find("training fm on criteo data"), std::string::npos) << worker;
  EXPECT_FALSE(std::filesystem::is_empty(dir_.File("model")));
  // model.json comes from the scheduler (node-flags --role=scheduler gave it
  // the model's description): the model is usable as trained.
  auto info = nlohmann::json::parse(testing::ReadFile(dir_.File("model/model.json")), nullptr, false);
  ASSERT_TRUE(info.is_object()) << testing::ReadFile(dir_.File("model/model.json"));
  EXPECT_EQ(info["spec"]["model"], "fm") << info.dump(2);
  ASSERT_TRUE(info["training"].is_object()) << info.dump(2);
  EXPECT_EQ(info["training"].value("rows", uint64_t{0}), 20000u) << info.dump(2);
  // A model flag the workers refuse is caught before any task starts.
  r = Sbatch({"--model=nosuchmodel", "--insecure"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("the model flags were refused"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nosuchmodel"), std::string::npos) << r.output;
}

TEST_F(SlurmLauncherTest, AFailingTaskFailsTheJobAndIsNamed) {
  // Also the opt-out: --insecure runs without CURVE, and says so.
  auto r = Sbatch({"--passes=500", "--worker_flags=--batch_size=0", "--insecure"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("WARNING: --insecure: CURVE is off"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("embedps-4242/keys")));
  // Whichever worker fails first is named (the other may be killed first).
  const std::string why = ": embedps-worker: error: --batch_size must be >= 1";
  EXPECT_TRUE(r.output.find("worker-0" + why) != std::string::npos ||
              r.output.find("worker-1" + why) != std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("the job failed"), std::string::npos) << r.output;
  // srun --kill-on-bad-exit stopped the scheduler and servers too.
  EXPECT_TRUE(testing::AwaitNoProcessMatching(token_, seconds(3)).empty());
}

// Issue #9: a run that fails once the job has a checkpoint (a dead node:
// srun kills the step) requeues the job, and the requeued run, the same
// command under the same job id, resumes from the newest checkpoint
// (--resume=auto) and ends with the model.
TEST_F(SlurmLauncherTest, AFailedRunWithACheckpointIsRequeuedAndTheNextRunResumes) {
  auto r = Sbatch({"--insecure", "--model_dir=" + dir_.File("model")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--resume=auto: no checkpoint in"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("embedps-4242/checkpoints")));
  const std::string requeues = dir_.File("requeues.log");
  r = Sbatch({"--insecure", "--model_dir=" + dir_.File("model"), "--worker_flags=--batch_size=0"},
             {"FAKE_SLURM_REQUEUES=" + requeues});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("requeued job 4242 (requeue 1 of at most 3)"), std::string::npos) << r.output;
  EXPECT_EQ(testing::ReadFile(requeues), "requeue 4242\n");
  r = Sbatch({"--insecure", "--model_dir=" + dir_.File("model")}, {"SLURM_RESTART_COUNT=1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--resume=auto: resuming from"), std::string::npos) << r.output;
  auto eval = testing::EvaluateExportedLr(dir_.File("model"), train_);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_GT(eval->auc, 0.65);
  // Past --max_requeues a failure stays a failure.
  r = Sbatch({"--insecure", "--worker_flags=--batch_size=0", "--max_requeues=1"},
             {"FAKE_SLURM_REQUEUES=" + requeues, "SLURM_RESTART_COUNT=1"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("requeued job"), std::string::npos) << r.output;
}

TEST_F(SlurmLauncherTest, BadFlagsAreClearErrors) {
  auto r = Sbatch({"--frobnicate=1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown flag --frobnicate"), std::string::npos) << r.output;
  r = Sbatch({"--servers=4"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("5 tasks leave no worker"), std::string::npos) << r.output;
  r = Sbatch({"--curve_dir=" + dir_.File("no-keys")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("holds no CURVE keys"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace embedps
