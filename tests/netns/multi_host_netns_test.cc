// A job across five network namespaces on one machine (scheduler, 2 servers,
// 2 workers, each with its own address on a private bridge and loopback
// down), so nothing can depend on 127.0.0.1; then one server's link goes
// down mid-job and the scheduler must detect and name the dead server, in
// its log and on its /status endpoint (read from another namespace with
// `embedps status --json`).
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <map>
#include <regex>
#include <thread>

#include "tests/support/exported_eval.h"
#include "tests/support/netns_lab.h"
#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

enum Node : size_t { kScheduler = 0, kServer0, kServer1, kWorker0, kWorker1 };
constexpr int kPort = 9000;
constexpr int kHttpPort = 9100;

// Waits until `file` contains `text`; false after `timeout`.
bool AwaitText(const std::string& file, const std::string& text, seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (testing::ReadFile(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// What the scheduler said about the failure. Every check of how a dead
// server is reported goes through ExpectDeadServerReported, so the scheduler's
// /status endpoint can be asserted here as well once it exists.
struct FailureReport {
  int scheduler_exit_code = 0;
  std::string scheduler_output;  // its log: stdout and stderr
  int dead_rank = -1;            // the rank the scheduler gave the cut-off server
  std::string status_json;       // `embedps status --json` once the death was logged
};

void ExpectDeadServerReported(const FailureReport& report) {
  EXPECT_EQ(report.scheduler_exit_code, 1) << report.scheduler_output;
  const std::string expected = "server " + std::to_string(report.dead_rank) + " missed heartbeats";
  EXPECT_NE(report.scheduler_output.find(expected), std::string::npos) << report.scheduler_output;
  EXPECT_NE(report.scheduler_output.find("presumed dead"), std::string::npos) << report.scheduler_output;
  auto status = nlohmann::json::parse(report.status_json, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(status.is_discarded()) << "no /status JSON: " << report.status_json;
  bool dead_server = false;
  for (const auto& n : status["nodes"]) {
    dead_server |= n["role"] == "server" && n["rank"] == report.dead_rank && n["health"] == "dead";
  }
  EXPECT_TRUE(dead_server) << status.dump(2);
}

// The rank the scheduler admitted the server at `endpoint` with, from its
// "admitted server R (HOST pid P, ENDPOINT[, metrics URL])" log line; -1
// when absent.
int AdmittedRank(const std::string& log, const std::string& endpoint) {
  const std::regex line("admitted server ([0-9]+) \\([^,]*, " + endpoint + "[,)]");
  std::smatch m;
  return std::regex_search(log, m, line) ? std::stoi(m[1]) : -1;
}

// Five namespaces (scheduler, 2 servers, 2 workers) and the training data;
// skipped where namespaces cannot be made (no root, no iproute2).
class MultiHostNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status created = lab.Create();
    if (created.code() == StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << "skipping the multi-host test: " << created.message();
    }
    ASSERT_TRUE(created.ok()) << created.ToString();
    train = testing::GenerateCriteoFile(dir, "train.tsv", 20000, 1);
  }
  testing::NetnsLab lab{{"sched", "s0", "s1", "w0", "w1"}};
  testing::ScratchDir dir;
  std::string train;
};

TEST_F(MultiHostNetnsTest, JobAcrossNamespacesDetectsALostServer) {

  const std::string bin = testing::BinDir();
  const std::string scheduler = "tcp://" + lab.Address(kScheduler) + ":" + std::to_string(kPort);
  const std::vector<std::string> common = {"--cluster_token=netns-test", "--heartbeat_interval_ms=200",
                                           "--scheduler_timeout_ms=5000"};
  // Loopback is down in every namespace: each node serves its HTTP
  // endpoint on its own address.
  auto with = [&common](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    return args;
  };
  const std::string sched_log = dir.File("scheduler.log");
  ASSERT_TRUE(lab.Start(kScheduler, "scheduler", bin + "/embedps-scheduler",
                        with({"--bind=" + scheduler, "--http_bind=0.0.0.0",
                              "--http_port=" + std::to_string(kHttpPort), "--http_linger_ms=5000",
                              "--num_servers=2", "--num_workers=2",
                              "--train=" + train, "--passes=1000", "--node_timeout_ms=2000",
                              "--progress_interval_ms=300"}),
                        sched_log)
                  .ok());
  for (Node s : {kServer0, kServer1}) {
    const std::string bind = "tcp://" + lab.Address(s) + ":" + std::to_string(kPort + 1);
    ASSERT_TRUE(lab.Start(s, "server", bin + "/embedps-server",
                          with({"--scheduler=" + scheduler, "--bind=" + bind, "--http_bind=" + lab.Address(s)}),
                          dir.File("server-" + std::to_string(s) + ".log"))
                    .ok());
  }
  for (Node w : {kWorker0, kWorker1}) {
    ASSERT_TRUE(lab.Start(w, "worker", bin + "/embedps-worker",
                          with({"--scheduler=" + scheduler, "--http_bind=" + lab.Address(w)}),
                          dir.File("worker-" + std::to_string(w) + ".log"))
                    .ok());
  }

  // Training across the namespaces: the workers reached both servers.
  ASSERT_TRUE(AwaitText(sched_log, "progress:", seconds(60))) << testing::ReadFile(sched_log);
  const std::string lost = "tcp://" + lab.Address(kServer1) + ":" + std::to_string(kPort + 1);
  FailureReport report;
  report.dead_rank = AdmittedRank(testing::ReadFile(sched_log), lost);
  ASSERT_GE(report.dead_rank, 0) << "no admission of " << lost << ": " << testing::ReadFile(sched_log);

  ASSERT_TRUE(lab.SetLink(kServer1, false).ok());
  ASSERT_TRUE(AwaitText(sched_log, "presumed dead", seconds(30))) << testing::ReadFile(sched_log);
  // The scheduler keeps serving /status (--http_linger_ms) after the job
  // failed; ask it over the bridge from a worker's host (its own host cannot
  // reach its address with loopback down).
  const std::string status_log = dir.File("status.json");
  ASSERT_TRUE(lab.Start(kWorker0, "status", bin + "/embedps",
                        {"status", "--json", "--timeout_s=3",
                         "--scheduler=" + lab.Address(kScheduler) + ":" + std::to_string(kHttpPort)},
                        status_log)
                  .ok());
  const auto deadline = Clock::now() + seconds(40);
  bool exited = false;
  while (!exited && Clock::now() < deadline) {
    auto exit = lab.group().WaitAny(std::chrono::milliseconds(200));
    if (exit && exit->name == "scheduler") {
      exited = true;
      report.scheduler_exit_code = exit->exit_code;
    }
    if (exit && exit->name == "status") report.status_json = testing::ReadFile(status_log);
  }
  ASSERT_TRUE(exited) << "the scheduler did not notice the lost server: " << testing::ReadFile(sched_log);
  report.scheduler_output = testing::ReadFile(sched_log);
  ExpectDeadServerReported(report);
}

// One job across the lab's namespaces with checkpoints (on the file system
// every namespace shares) and the model exported, its daemons named
// TAG-scheduler, TAG-server-N, TAG-worker-N.
struct NetnsJob {
  testing::NetnsLab& lab;
  const testing::ScratchDir& dir;
  std::string tag;
  std::string train;
  std::map<size_t, pid_t> pids;
  std::string scheduler() const { return "tcp://" + lab.Address(kScheduler) + ":" + std::to_string(kPort); }
  std::string log(const std::string& name) const { return dir.File(tag + "-" + name + ".log"); }
  std::string model() const { return dir.File(tag + "-model"); }
  std::vector<std::string> Common() const {
    return {"--cluster_token=netns-" + tag, "--heartbeat_interval_ms=200", "--scheduler_timeout_ms=20000",
            "--http_port=-1"};
  }
  Status StartScheduler(const std::string& name) {
    std::vector<std::string> args = {"--bind=" + scheduler(), "--num_servers=2", "--num_workers=2",
                                     "--train=" + train, "--passes=40", "--node_timeout_ms=1500",
                                     "--checkpoint_dir=" + dir.File(tag + "-checkpoints"), "--resume=auto",
                                     "--checkpoint_interval_s=1", "--checkpoint_min_gap_s=0",
                                     "--model_dir=" + model(), "--progress_interval_ms=300"};
    for (const auto& f : Common()) args.push_back(f);
    ASSIGN_OR_RETURN(pids[kScheduler], lab.Start(kScheduler, tag + "-" + name, testing::BinDir() + "/embedps-scheduler",
                                                 args, log(name)));
    return Status::OK();
  }
  Status StartServer(Node s, int port, const std::string& name) {
    std::vector<std::string> args = {"--scheduler=" + scheduler(),
                                     "--bind=tcp://" + lab.Address(s) + ":" + std::to_string(port)};
    for (const auto& f : Common()) args.push_back(f);
    ASSIGN_OR_RETURN(pids[s], lab.Start(s, tag + "-" + name, testing::BinDir() + "/embedps-server", args, log(name)));
    return Status::OK();
  }
  Status Start() {
    RETURN_IF_ERROR(StartScheduler("scheduler"));
    RETURN_IF_ERROR(StartServer(kServer0, kPort + 1, "server-0"));
    RETURN_IF_ERROR(StartServer(kServer1, kPort + 1, "server-1"));
    for (Node w : {kWorker0, kWorker1}) {
      std::vector<std::string> args = {"--scheduler=" + scheduler()};
      for (const auto& f : Common()) args.push_back(f);
      const std::string name = "worker-" + std::to_string(w - kWorker0);
      ASSIGN_OR_RETURN(pids[w], lab.Start(w, tag + "-" + name, testing::BinDir() + "/embedps-worker", args, log(name)));
    }
    return Status::OK();
  }
  // The exit code of the child named TAG-`name`, or -1 after `timeout`.
  int AwaitExit(const std::string& name, seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto exit = lab.group().WaitAny(std::chrono::milliseconds(200));
      if (exit && exit->name == tag + "-" + name) return exit->exit_code;
    }
    return -1;
  }
};

// Issue #9: the same daemons, started by hand on five "hosts", survive a
// server SIGKILLed on its host (a replacement started there takes its rank
// back from the checkpoint) and then the scheduler SIGKILLed on its host
// (started again with --resume=auto, the live nodes rejoin): the job ends
// with a model whose AUC is within 0.005 of a clean run's.
TEST_F(MultiHostNetnsTest, AServerAndTheSchedulerKilledOnTheirHostsAreReplacedAndTheJobFinishes) {
  const std::string test = testing::GenerateCriteoFile(dir, "test.tsv", 4000, 2);

  NetnsJob clean{lab, dir, "clean", train, {}};
  ASSERT_TRUE(clean.Start().ok());
  ASSERT_EQ(clean.AwaitExit("scheduler", seconds(120)), 0) << testing::ReadFile(clean.log("scheduler"));
  auto clean_eval = testing::EvaluateExportedLr(clean.model(), test);
  ASSERT_TRUE(clean_eval.ok()) << clean_eval.status().ToString();
  // The other daemons of the clean job exit after its shutdown.
  std::this_thread::sleep_for(seconds(2));

  NetnsJob faulty{lab, dir, "faulty", train, {}};
  ASSERT_TRUE(faulty.Start().ok());
  const std::string sched = faulty.log("scheduler");
  // A checkpoint written (its log also has the line that starts one).
  ASSERT_TRUE(AwaitText(sched, ") written: ", seconds(60))) << testing::ReadFile(sched);
  ASSERT_EQ(kill(faulty.pids[kServer1], SIGKILL), 0);
  // Its replacement, on the same host (another port: the old one may linger).
  ASSERT_TRUE(faulty.StartServer(kServer1, kPort + 2, "server-1-again").ok());
  ASSERT_TRUE(AwaitText(sched, "is back (shard map epoch 2)", seconds(60))) << testing::ReadFile(sched);
  ASSERT_EQ(kill(faulty.pids[kScheduler], SIGKILL), 0);
  ASSERT_NE(faulty.AwaitExit("scheduler", seconds(10)), 0);
  ASSERT_TRUE(faulty.StartScheduler("scheduler-again").ok());
  const int code = faulty.AwaitExit("scheduler-again", seconds(120));
  const std::string again = testing::ReadFile(faulty.log("scheduler-again"));
  ASSERT_EQ(code, 0) << again;
  EXPECT_NE(again.find("--resume=auto: resuming from"), std::string::npos) << again;
  auto eval = testing::EvaluateExportedLr(faulty.model(), test);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  std::printf("test AUC: clean run %.4f, after the kills %.4f\n", clean_eval->auc, eval->auc);
  EXPECT_NEAR(eval->auc, clean_eval->auc, 0.005);
}

}  // namespace
}  // namespace embedps
