// Bad input and dying processes: clear one-line errors and non-zero exits
// (never a crash), malformed data counted and skipped up to a threshold, a
// SIGKILLed child failing the whole run, and no process outliving the run.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/transport.h"
#include "datagen/criteo_generator.h"
#include "launch/process_group.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Generate(const testing::ScratchDir& dir, const std::string& name, uint64_t rows,
                     uint64_t seed) {
  return testing::GenerateCriteoFile(dir, name, rows, seed);
}

// Counts lines of `text` that are not empty.
int NonEmptyLines(const std::string& text) {
  int n = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) ++n;
    start = end + 1;
  }
  return n;
}

TEST(FailureTest, BadFlagsGiveOneLineErrors) {
  testing::ScratchDir dir;
  const std::string data = Generate(dir, "d.tsv", 100, 1);
  struct Case {
    std::string binary;
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"embedps", {"local", "--servers=0", "--train=" + data, "--test=" + data}, "--servers must be in 1..64"},
      {"embedps", {"local", "--model=dnn", "--train=" + data, "--test=" + data}, "unknown model 'dnn'"},
      {"embedps", {"local", "--optimizer=lbfgs", "--train=" + data, "--test=" + data}, "--optimizer"},
      {"embedps", {"gen-criteo", "--rows=0", "--out=" + dir.File("x")}, "--rows must be"},
      {"embedps", {"frobnicate"}, "unknown command"},
      {"embedps-server", {"--scheduler=tcp://127.0.0.1:1", "--dim=0"}, "--dim must be in 1..1024"},
      {"embedps-server", {"--scheduler=tcp://127.0.0.1:1", "--optimizer=magic"}, "unknown optimizer"},
      {"embedps-scheduler", {"--num_servers=1"}, "--train is required"},
      {"embedps-worker", {}, "--scheduler is required"},
  };
  for (const auto& c : cases) {
    auto r = testing::RunBinary(c.binary, c.args, dir.File("out.log"), seconds(20));
    EXPECT_FALSE(r.signaled) << c.binary << ": " << r.output;
    EXPECT_GE(r.exit_code, 1) << c.binary << ": " << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.binary << ": " << r.output;
    std::remove(dir.File("out.log").c_str());
  }
}

TEST(FailureTest, MissingFilesAreNamed) {
  testing::ScratchDir dir;
  const std::string data = Generate(dir, "d.tsv", 100, 1);
  auto r = testing::RunBinary("embedps", {"local", "--train=/nonexistent/train.tsv", "--test=" + data},
                              dir.File("out.log"), seconds(20));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("/nonexistent/train.tsv does not exist"), std::string::npos) << r.output;
  EXPECT_EQ(NonEmptyLines(r.output), 1) << r.output;

  r = testing::RunBinary("embedps", {"eval", "--model_dir=" + dir.File("none"), "--test=" + data},
                         dir.File("eval.log"), seconds(20));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("does not exist"), std::string::npos) << r.output;
}

TEST(FailureTest, PortInUseIsAClearError) {
  testing::ScratchDir dir;
  zmq::context_t ctx(1);
  zmq::socket_t holder(ctx, zmq::socket_type::router);
  auto bound = BindSocket(holder, "tcp://127.0.0.1:0");
  ASSERT_TRUE(bound.ok());
  const std::string taken = *bound;
  for (const std::string binary : {"embedps-server", "embedps-scheduler"}) {
    std::vector<std::string> args = {"--bind=" + taken, "--scheduler=tcp://127.0.0.1:1"};
    if (binary == "embedps-scheduler") args = {"--bind=" + taken, "--train=" + Generate(dir, "d.tsv", 10, 1)};
    auto r = testing::RunBinary(binary, args, dir.File(binary + ".log"), seconds(20));
    EXPECT_FALSE(r.signaled) << r.output;
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("address already in use"), std::string::npos) << r.output;
  }
}

TEST(FailureTest, FewMalformedLinesAreCountedAndSkipped) {
  testing::ScratchDir dir;
  const std::string train = Generate(dir, "train.tsv", 20000, 3);
  const std::string test = Generate(dir, "test.tsv", 2000, 4);
  {
    std::ofstream out(train, std::ios::app);
    for (int i = 0; i < 40; ++i) out << "garbage line " << i << "\n";  // 0.2%
  }
  const std::string summary = dir.File("summary.json");
  auto r = testing::RunBinary("embedps",
                              {"local", "--train=" + train, "--test=" + test, "--servers=1",
                               "--workers=2", "--summary_json=" + summary,
                               "--run_dir=" + dir.File("run")},
                              dir.File("local.log"), seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(testing::ReadFile(summary));
  EXPECT_EQ(j["bad_lines"].get<uint64_t>(), 40u);
  EXPECT_EQ(j["rows"].get<uint64_t>(), 20000u);
  // The first few are logged with file and line number (line 20001 is the first bad one).
  std::string worker_logs = testing::ReadFile(dir.File("run/logs/worker-0.log")) +
                            testing::ReadFile(dir.File("run/logs/worker-1.log"));
  EXPECT_NE(worker_logs.find("train.tsv:20001"), std::string::npos) << worker_logs;
}

TEST(FailureTest, TooManyMalformedLinesFailTheJob) {
  testing::ScratchDir dir;
  const std::string train = Generate(dir, "train.tsv", 5000, 3);
  const std::string test = Generate(dir, "test.tsv", 1000, 4);
  {
    std::ofstream out(train, std::ios::app);
    for (int i = 0; i < 1000; ++i) out << "1\tnot\tenough\tfields\n";
  }
  auto r = testing::RunBinary("embedps",
                              {"local", "--train=" + train, "--test=" + test, "--servers=1",
                               "--workers=1", "--max_bad_line_fraction=0.05",
                               "--run_dir=" + dir.File("run")},
                              dir.File("local.log"), seconds(120));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("train.tsv"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("malformed"), std::string::npos) << r.output;
}

TEST(FailureTest, PeerFromAnotherClusterIsRefused) {
  testing::ClusterSpec spec;
  spec.token = "cluster-a";
  spec.servers = 1;
  testing::ProcessCluster cluster(spec);
  ASSERT_TRUE(cluster.Start().ok());
  auto r = testing::RunBinary(
      "embedps-worker", {"--scheduler=" + cluster.scheduler_endpoint(), "--cluster_token=cluster-b"},
      cluster.dir().File("intruder.log"), seconds(30));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("another cluster"), std::string::npos) << r.output;
}

// Nodes wait silently for the shard map while the others join; a slow
// start must not get them declared dead (only the join timeout applies).
TEST(FailureTest, SlowStartIsNotMistakenForDeadNodes) {
  testing::ScratchDir dir;
  launch::ProcessGroup group;
  const std::string endpoint_file = dir.File("scheduler.endpoint");
  launch::ChildSpec sched{"scheduler", testing::BinDir() + "/embedps-scheduler",
                          {"--cluster_token=slow-start", "--endpoint_file=" + endpoint_file,
                           "--num_servers=2", "--num_workers=1", "--node_timeout_ms=800",
                           "--heartbeat_interval_ms=200", "--join_timeout_ms=30000",
                           "--train=" + Generate(dir, "d.tsv", 10, 1)},
                          dir.File("scheduler.log")};
  ASSERT_TRUE(group.Start(sched).ok());
  std::string endpoint;
  for (int i = 0; i < 250 && endpoint.empty(); ++i) {
    std::ifstream(endpoint_file) >> endpoint;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_FALSE(endpoint.empty());
  launch::ChildSpec server{"server-0", testing::BinDir() + "/embedps-server",
                           {"--cluster_token=slow-start", "--scheduler=" + endpoint,
                            "--heartbeat_interval_ms=200"},
                           dir.File("server-0.log")};
  ASSERT_TRUE(group.Start(server).ok());
  // Three node timeouts pass with one server admitted and one missing.
  auto exit = group.WaitAny(milliseconds(2500));
  EXPECT_FALSE(exit.has_value()) << exit->name << " exited: "
                                 << testing::ReadFile(exit->log_file);
}

// Starts `embedps local` on a job long enough to be interrupted, and waits
// until its workers run. Returns the launcher's pid and the token needle.
class RunningJob {
 public:
  explicit RunningJob(const testing::ScratchDir& dir) : dir_(dir) {
    const std::string train = Generate(dir, "train.tsv", 150000, 5);
    const std::string test = Generate(dir, "test.tsv", 1000, 6);
    // Tiny batches and many passes keep the job busy for a long while.
    launch::ChildSpec spec{"local", testing::BinDir() + "/embedps",
                           {"local", "--train=" + train, "--test=" + test, "--servers=2",
                            "--workers=2", "--batch_size=20", "--passes=50",
                            "--run_dir=" + dir.File("run"), "--checkpoints=false"},
                           dir.File("local.log")};
    auto pid = group_.Start(spec);
    EXPECT_TRUE(pid.ok());
    launcher_ = *pid;
    needle_ = "local-" + std::to_string(launcher_) + "-";
  }

  // Waits until `count` processes with `what` in their command line run.
  std::vector<pid_t> AwaitProcesses(const std::string& what, size_t count) {
    for (int i = 0; i < 300; ++i) {
      std::vector<pid_t> found;
      for (pid_t p : testing::ProcessesMatching(needle_)) {
        if (testing::ReadFile("/proc/" + std::to_string(p) + "/cmdline").find(what) !=
            std::string::npos) {
          found.push_back(p);
        }
      }
      if (found.size() >= count) return found;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return {};
  }

  // Waits up to 10 s for every process of the job to be gone.
  bool AwaitNoOrphans() {
    for (int i = 0; i < 200; ++i) {
      if (testing::ProcessesMatching(needle_).empty()) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  launch::ProcessGroup& group() { return group_; }
  pid_t launcher() const { return launcher_; }

 private:
  const testing::ScratchDir& dir_;
  launch::ProcessGroup group_;
  pid_t launcher_ = 0;
  std::string needle_;
};

// Without checkpoints (so without recovery) a killed worker ends the run (the recovery
// paths are tested in tests/fault/).
TEST(FailureTest, KilledWorkerFailsTheRunWithoutOrphans) {
  testing::ScratchDir dir;
  RunningJob job(dir);
  auto workers = job.AwaitProcesses("embedps-worker", 2);
  ASSERT_EQ(workers.size(), 2u);
  std::this_thread::sleep_for(milliseconds(500));  // let training start
  ASSERT_EQ(kill(workers[0], SIGKILL), 0);
  auto exit = job.group().WaitAny(milliseconds(30000));
  ASSERT_TRUE(exit.has_value()) << "launcher did not notice the dead worker";
  EXPECT_EQ(exit->exit_code, 1);
  const std::string out = testing::ReadFile(dir.File("local.log"));
  EXPECT_NE(out.find("killed by signal 9"), std::string::npos) << out;
  EXPECT_TRUE(job.AwaitNoOrphans());
}

TEST(FailureTest, KilledLauncherTakesItsChildrenWithIt) {
  testing::ScratchDir dir;
  RunningJob job(dir);
  ASSERT_EQ(job.AwaitProcesses("embedps-", 5).size(), 5u);  // scheduler, 2 servers, 2 workers
  ASSERT_EQ(kill(job.launcher(), SIGKILL), 0);
  job.group().WaitAny(milliseconds(5000));
  EXPECT_TRUE(job.AwaitNoOrphans());
}

TEST(FailureTest, InterruptedLauncherStopsCleanly) {
  testing::ScratchDir dir;
  RunningJob job(dir);
  ASSERT_EQ(job.AwaitProcesses("embedps-", 5).size(), 5u);
  ASSERT_EQ(kill(job.launcher(), SIGINT), 0);
  auto exit = job.group().WaitAny(milliseconds(15000));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 1);
  EXPECT_NE(testing::ReadFile(dir.File("local.log")).find("interrupted"), std::string::npos);
  EXPECT_TRUE(job.AwaitNoOrphans());
}

}  // namespace
}  // namespace embedps
