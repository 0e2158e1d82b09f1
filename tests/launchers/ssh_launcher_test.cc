// `embedps ssh` against a private sshd on 127.0.0.1: a real job through ssh
// (several nodes per host, ports per host, logs gathered per node), and the
// two ways a job ends early (a remote worker SIGKILLed, the launcher
// interrupted) leaving no process and no remote file behind. CURVE is on
// unless the launcher is told --insecure.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdio>

#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "launch/process_group.h"
#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"
#include "tests/support/test_sshd.h"
#include "tests/support/exported_eval.h"
#include "worker/eval/exported_model.h"

namespace embedps {
namespace {

using std::chrono::seconds;

class SshLauncherTest : public ::testing::Test {
 protected:
  // One sshd and one data set serve every test of the suite.
  static void SetUpTestSuite() {
    sshd_dir_ = new testing::ScratchDir();
    sshd_ = new testing::TestSshd(sshd_dir_->path());
    *sshd_status_ = sshd_->Start();
    if (sshd_status_->ok()) {
      train_ = testing::GenerateCriteoFile(*sshd_dir_, "train.tsv", 20000, 1);
      test_ = testing::GenerateCriteoFile(*sshd_dir_, "test.tsv", 4000, 2);
      keys_ = sshd_dir_->File("keys");
      auto r = testing::RunBinary("embedps", {"keygen", "--out=" + keys_, "--servers=2", "--workers=2"},
                                  sshd_dir_->File("keygen.log"), seconds(20));
      if (r.exit_code != 0) *sshd_status_ = Internal("embedps keygen failed: " + r.output);
    }
  }
  static void TearDownTestSuite() {
    delete sshd_;
    delete sshd_dir_;
  }

  void SetUp() override {
    const Status& st = *sshd_status_;
    if (st.code() == StatusCode::kFailedPrecondition) GTEST_SKIP() << "no test sshd: " << st.message();
    ASSERT_TRUE(st.ok()) << st.ToString();
    base_port_ = testing::FreePortRange(3);
    ASSERT_NE(base_port_, 0);
    token_ = "ssh-test-" + std::to_string(getpid()) + "-" + std::to_string(base_port_);
    // Two names for one machine: the launcher must give them one port range.
    hostfile_ = dir_.Write("hosts",
                           "# test cluster, all on this machine\n"
                           "127.0.0.1 scheduler 1\n"
                           "127.0.0.1 server 2   # two servers share the host\n"
                           "\n"
                           "localhost worker 2\n");
  }

  std::vector<std::string> LauncherArgs(const std::string& train, int passes) const {
    return {"ssh", "--hostfile=" + hostfile_, "--train=" + train, "--passes=" + std::to_string(passes),
            "--ssh_options=-F " + sshd_->config(), "--bind_host=127.0.0.1",
            "--base_port=" + std::to_string(base_port_), "--run_dir=" + dir_.File("job"),
            "--remote_dir=" + remote_dir(), "--node_flags=--cluster_token=" + token_,
            "--timeout_s=120", "--curve_dir=" + keys_};
  }
  std::string remote_dir() const { return dir_.File("remote"); }

  // Asserts that the job left nothing: no daemon, no wrapper, no remote file.
  void ExpectNothingLeft() {
    EXPECT_TRUE(testing::AwaitNoProcessMatching(token_, seconds(3)).empty())
        << "processes of the job are still running";
    EXPECT_TRUE(testing::AwaitNoProcessMatching(remote_dir(), seconds(3)).empty())
        << "remote wrappers are still running";
    EXPECT_FALSE(std::filesystem::exists(remote_dir())) << "remote directory left behind";
  }

  static testing::ScratchDir* sshd_dir_;
  static testing::TestSshd* sshd_;
  static Status* sshd_status_;
  static std::string train_, test_, keys_;
  testing::ScratchDir dir_;
  int base_port_ = 0;
  std::string token_;
  std::string hostfile_;
};

TEST_F(SshLauncherTest, TrainsThroughSsh) {
  auto args = LauncherArgs(train_, 3);
  args.push_back("--model_dir=" + dir_.File("model"));
  args.push_back("--summary_json=" + dir_.File("summary.json"));
  auto r = testing::RunBinary("embedps", args, dir_.File("launcher.log"), seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("trained 60000 rows"), std::string::npos) << r.output;

  auto summary = nlohmann::json::parse(testing::ReadFile(dir_.File("summary.json")));
  EXPECT_EQ(summary["rows"].get<uint64_t>(), 60000u);  // 3 passes
  const double logloss = summary["train_logloss"].get<double>();
  EXPECT_GT(logloss, 0.3);
  EXPECT_LT(logloss, 0.66);  // well below ln 2, the loss of the untrained model
  // Ports per host: the scheduler and both servers on one machine, no clash.
  ASSERT_EQ(summary["nodes"].size(), 5u);
  EXPECT_EQ(summary["nodes"][0]["port"].get<int>(), base_port_);
  EXPECT_EQ(summary["nodes"][1]["port"].get<int>(), base_port_ + 1);
  EXPECT_EQ(summary["nodes"][2]["port"].get<int>(), base_port_ + 2);

  // Every node's output was gathered into its own log.
  for (const char* node : {"scheduler", "server-0", "server-1", "worker-0", "worker-1"}) {
    const std::string log = testing::ReadFile(dir_.File("job/logs/") + node + ".log");
    EXPECT_FALSE(log.empty()) << node;
    EXPECT_EQ(log.find("error"), std::string::npos) << node << ": " << log;
  }
  // CURVE is on by default: every node was admitted with its own key.
  EXPECT_NE(r.output.find("CURVE is on: keys from " + keys_), std::string::npos) << r.output;
  const std::string sched = testing::ReadFile(dir_.File("job/logs/scheduler.log"));
  for (const char* key : {"CURVE key server-0", "CURVE key server-1", "CURVE key worker-0",
                          "CURVE key worker-1"}) {
    EXPECT_NE(sched.find(key), std::string::npos) << key << ": " << sched;
  }
  const std::string server1 = testing::ReadFile(dir_.File("job/logs/server-1.log"));
  EXPECT_NE(server1.find("listening on tcp://127.0.0.1:" + std::to_string(base_port_ + 2)), std::string::npos)
      << server1;

  // The scheduler wrote model.json (no --test here, so not the launcher;
  // read before the test's own evaluation rewrites it).
  auto info = nlohmann::json::parse(testing::ReadFile(dir_.File("model/model.json")), nullptr, false);
  ASSERT_TRUE(info.is_object()) << "no model.json from the scheduler";
  EXPECT_EQ(info["spec"]["model"], "lr") << info.dump(2);
  ASSERT_TRUE(info["training"].is_object()) << info.dump(2);
  EXPECT_EQ(info["training"].value("rows", uint64_t{0}), 60000u) << info.dump(2);
  auto eval = testing::EvaluateExportedLr(dir_.File("model"), test_);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_GT(eval->auc, 0.65);
  EXPECT_EQ(eval->rows, 4000u);
  ExpectNothingLeft();
}

// The model flags reach every node: the servers declare the model's tables
// (the fm factor table), the workers train
// the model, and with --test the launcher completes the export in
// --model_dir (model.json) and evaluates it on this machine.
TEST_F(SshLauncherTest, TrainsTheModelTheFlagsNameAndEvaluatesItOnTest) {
  auto args = LauncherArgs(train_, 2);
  args.insert(args.end(), {"--model=fm", "--factors=4", "--test=" + test_, "--model_dir=" + dir_.File("model"),
                           "--summary_json=" + dir_.File("summary.json")});
  auto r = testing::RunBinary("embedps", args, dir_.File("launcher.log"), seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("model fm on criteo data"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("test AUC"), std::string::npos) << r.output;

  auto summary = nlohmann::json::parse(testing::ReadFile(dir_.File("summary.json")));
  EXPECT_EQ(summary.value("model", ""), "fm");
  EXPECT_EQ(summary.value("rows", 0), 40000);
  EXPECT_EQ(summary.value("test_rows", 0), 4000);
  EXPECT_GT(summary.value("test_auc", 0.0), 0.65) << summary.dump(2);

  auto info = worker::ReadModelInfo(dir_.File("model"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->spec.model, "fm");
  ASSERT_EQ(info->tables.size(), 1u);
  EXPECT_EQ(info->tables[0].name, "factors");
  EXPECT_EQ(info->tables[0].dim, 5u);  // w and 4 factors
  // Both servers built the model's table from the declaration they were given.
  for (const char* node : {"server-0", "server-1"}) {
    const std::string log = testing::ReadFile(dir_.File("job/logs/") + node + ".log");
    EXPECT_NE(log.find("table factors:"), std::string::npos) << node << ": " << log;
  }
  ExpectNothingLeft();
}

testing::ScratchDir* SshLauncherTest::sshd_dir_ = nullptr;
testing::TestSshd* SshLauncherTest::sshd_ = nullptr;
Status* SshLauncherTest::sshd_status_ = new Status();
std::string SshLauncherTest::train_;
std::string SshLauncherTest::test_;
std::string SshLauncherTest::keys_;

// Starts a long job and waits until it trains, with every remote pid file in place.
pid_t StartLongJob(launch::ProcessGroup& group, const std::vector<std::string>& args,
                   const std::string& log, const std::string& remote_dir) {
  launch::ChildSpec spec{"launcher", testing::BinDir() + "/embedps", args, log};
  auto pid = group.Start(spec);
  EXPECT_TRUE(pid.ok());
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (testing::ReadFile(log).find("cluster up") != std::string::npos &&
        std::filesystem::exists(remote_dir + "/worker-1.pid")) {
      return pid.ok() ? *pid : 0;
    }
    if (group.WaitAny(std::chrono::milliseconds(100))) break;
  }
  ADD_FAILURE() << "the job did not start training: " << testing::ReadFile(log);
  return 0;
}

TEST_F(SshLauncherTest, KilledRemoteWorkerStopsEveryNode) {
  launch::ProcessGroup group;
  const std::string log = dir_.File("launcher.log");
  ASSERT_NE(StartLongJob(group, LauncherArgs(train_, 500), log, remote_dir()), 0);
  const pid_t worker = std::stoi(testing::ReadFile(remote_dir() + "/worker-1.pid"));
  ASSERT_EQ(kill(worker, SIGKILL), 0);

  auto exit = group.WaitAny(std::chrono::milliseconds(30000));
  ASSERT_TRUE(exit.has_value()) << "the launcher did not stop: " << testing::ReadFile(log);
  EXPECT_EQ(exit->exit_code, 1);
  const std::string out = testing::ReadFile(log);
  EXPECT_NE(out.find("error: worker-1 on localhost was killed by signal 9"), std::string::npos) << out;
  ExpectNothingLeft();
}

// Issue #9: with --checkpoint_dir the ssh launcher runs the same
// fault-tolerant job as `embedps local`: a server SIGKILLed on its host is
// started again there and takes its rank back from the checkpoint, then the
// scheduler SIGKILLed on its host is started again and resumes
// (--resume=auto) while the others rejoin; the job ends with a model whose
// AUC is within 0.005 of a clean run's.
TEST_F(SshLauncherTest, KilledServerAndSchedulerAreStartedAgainAndTheJobFinishes) {
  const int passes = 60;
  auto with_checkpoints = [&](const std::string& name) {
    auto args = LauncherArgs(train_, passes);
    // Ports of its own for each job: the first one's may linger a moment.
    const int base_port = testing::FreePortRange(3);
    EXPECT_NE(base_port, 0);
    args.insert(args.end(), {"--base_port=" + std::to_string(base_port),
                             "--checkpoint_dir=" + dir_.File(name + "-checkpoints"),
                             "--model_dir=" + dir_.File(name + "-model"), "--timeout_s=180",
                             "--scheduler_flags=--node_timeout_ms=1500 --checkpoint_interval_s=1 "
                             "--checkpoint_min_gap_s=0",
                             "--node_flags=--cluster_token=" + token_ + " --heartbeat_interval_ms=200"});
    return args;
  };
  auto clean = testing::RunBinary("embedps", with_checkpoints("clean"), dir_.File("clean.log"), seconds(180));
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  auto clean_eval = testing::EvaluateExportedLr(dir_.File("clean-model"), test_);
  ASSERT_TRUE(clean_eval.ok()) << clean_eval.status().ToString();
  ExpectNothingLeft();

  launch::ProcessGroup group;
  const std::string log = dir_.File("faulty.log");
  ASSERT_NE(StartLongJob(group, with_checkpoints("faulty"), log, remote_dir()), 0);
  auto await = [&](const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (testing::ReadFile(log).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  ASSERT_TRUE(await("checkpoint 1 (")) << testing::ReadFile(log);
  ASSERT_EQ(kill(std::stoi(testing::ReadFile(remote_dir() + "/server-0.pid")), SIGKILL), 0);
  ASSERT_TRUE(await("is back (shard map epoch 2)")) << testing::ReadFile(log);
  ASSERT_EQ(kill(std::stoi(testing::ReadFile(remote_dir() + "/scheduler.pid")), SIGKILL), 0);
  auto exit = group.WaitAny(std::chrono::milliseconds(150000));
  ASSERT_TRUE(exit.has_value()) << "the launcher did not finish: " << testing::ReadFile(log);
  const std::string out = testing::ReadFile(log);
  ASSERT_EQ(exit->exit_code, 0) << out;
  EXPECT_NE(out.find("server-0 (pid"), std::string::npos) << out;
  EXPECT_NE(out.find("restarting it with --resume"), std::string::npos) << out;
  EXPECT_NE(out.find("--resume=auto: resuming from"), std::string::npos) << out;
  auto eval = testing::EvaluateExportedLr(dir_.File("faulty-model"), test_);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  std::printf("test AUC: clean run %.4f, after the kills %.4f\n", clean_eval->auc, eval->auc);
  EXPECT_NEAR(eval->auc, clean_eval->auc, 0.005);
  ExpectNothingLeft();
}

// SIGTERM to the launcher (a batch system stopping it) reaches the
// scheduler's daemon on its host: the job stops well, the model is exported
// and the launcher exits 0.
TEST_F(SshLauncherTest, SigtermStopsTheJobWell) {
  launch::ProcessGroup group;
  const std::string log = dir_.File("launcher.log");
  auto args = LauncherArgs(train_, 500);
  args.push_back("--model_dir=" + dir_.File("model"));
  const pid_t launcher = StartLongJob(group, args, log, remote_dir());
  ASSERT_NE(launcher, 0);
  ASSERT_EQ(kill(launcher, SIGTERM), 0);
  auto exit = group.WaitAny(std::chrono::milliseconds(60000));
  ASSERT_TRUE(exit.has_value()) << "the launcher did not stop: " << testing::ReadFile(log);
  const std::string out = testing::ReadFile(log);
  EXPECT_EQ(exit->exit_code, 0) << out;
  EXPECT_NE(out.find("stop requested (SIGTERM)"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("model/model.json"))) << out;
  ExpectNothingLeft();
}

TEST_F(SshLauncherTest, InterruptStopsEveryNode) {
  launch::ProcessGroup group;
  const std::string log = dir_.File("launcher.log");
  const pid_t launcher = StartLongJob(group, LauncherArgs(train_, 500), log, remote_dir());
  ASSERT_NE(launcher, 0);
  ASSERT_EQ(kill(launcher, SIGINT), 0);

  auto exit = group.WaitAny(std::chrono::milliseconds(30000));
  ASSERT_TRUE(exit.has_value()) << "the launcher did not stop: " << testing::ReadFile(log);
  EXPECT_EQ(exit->exit_code, 1);
  EXPECT_NE(testing::ReadFile(log).find("interrupted"), std::string::npos) << testing::ReadFile(log);
  ExpectNothingLeft();
}

TEST_F(SshLauncherTest, UnreachableHostIsNamed) {
  // Nothing listens on the port the hostfile's worker host is reached at.
  // ssh takes the first value it reads, so this block goes before `Host *`.
  const std::string config = dir_.Write("bad_ssh_config", "Host unreachable\n  HostName 127.0.0.1\n  Port 1\n" +
                                                            testing::ReadFile(sshd_->config()));
  hostfile_ = dir_.Write("hosts2", "127.0.0.1 scheduler 1\n127.0.0.1 server 1\nunreachable worker 1\n");
  auto args = LauncherArgs(train_, 1);
  args.pop_back();  // --curve_dir: this job opts out of CURVE, and is warned
  args.push_back("--insecure");
  args.push_back("--ssh_options=-F " + config);
  auto r = testing::RunBinary("embedps", args, dir_.File("launcher.log"), seconds(60));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("WARNING: --insecure: CURVE is off"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("worker-0 on unreachable could not be reached"), std::string::npos) << r.output;
  ExpectNothingLeft();
}

TEST_F(SshLauncherTest, KeysAreRequiredAndMustFitTheRoles) {
  // Neither --curve_dir nor --insecure: refused before any ssh starts.
  auto args = LauncherArgs(train_, 1);
  args.pop_back();
  auto r = testing::RunBinary("embedps", args, dir_.File("none.log"), seconds(20));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("CURVE is on by default for multi-host jobs: give --curve_dir=DIR"),
            std::string::npos) << r.output;

  // Keys for too few workers: the missing key is named.
  const std::string small = dir_.File("small_keys");
  r = testing::RunBinary("embedps", {"keygen", "--out=" + small, "--servers=2", "--workers=1"},
                         dir_.File("keygen.log"), seconds(20));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  args.push_back("--curve_dir=" + small);
  r = testing::RunBinary("embedps", args, dir_.File("small.log"), seconds(20));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(small + "/worker-1.pub does not exist"), std::string::npos) << r.output;

  // A key bound to another role than the node that would use it.
  const std::string swapped = dir_.File("swapped_keys");
  r = testing::RunBinary("embedps", {"keygen", "--out=" + swapped, "--servers=3", "--workers=1"},
                         dir_.File("keygen2.log"), seconds(20));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::RunBinary("embedps", {"keygen", "--out=" + swapped, "--add=worker-1", "--role=server"},
                         dir_.File("keygen3.log"), seconds(20));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  args.back() = "--curve_dir=" + swapped;
  r = testing::RunBinary("embedps", args, dir_.File("swapped.log"), seconds(20));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("the key worker-1 in " + swapped + " admits a server, not a worker"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("job/logs/scheduler.log")));
}

}  // namespace
}  // namespace embedps
