#include "tests/support/fault_job.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/model_file.h"
#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"

namespace embedps::testing {

FaultJob::FaultJob(const ScratchDir& dir, std::string name, std::vector<std::string> args)
    : dir_(dir), name_(std::move(name)) {
  args.insert(args.begin(), {"local", "--run_dir=" + run_dir(), "--summary_json=" + dir_.File(name_ + ".json"),
                             "--timeout_s=240"});
  launch::ChildSpec spec{"local", BinDir() + "/embedps", args, dir_.File(name_ + ".out")};
  auto pid = group_.Start(spec);
  EXPECT_TRUE(pid.ok()) << pid.status().ToString();
  // The launcher's cluster token is "local-PID-...": it marks its daemons.
  if (pid.ok()) needle_ = "local-" + std::to_string(*pid) + "-";
}

FaultJob::~FaultJob() {
  if (!exited_) group_.TerminateAll(std::chrono::milliseconds(2000));
}

std::string FaultJob::output() const { return ReadFile(dir_.File(name_ + ".out")); }

bool FaultJob::AwaitOutput(const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (output().find(text) != std::string::npos) return true;
    if (group_.running() == 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::vector<pid_t> FaultJob::Daemons(const std::string& what) const {
  std::vector<pid_t> found;
  for (pid_t p : ProcessesMatching(needle_)) {
    std::string cmd = ReadFile("/proc/" + std::to_string(p) + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(what) != std::string::npos) found.push_back(p);
  }
  return found;
}

pid_t FaultJob::Kill(const std::string& what) {
  auto pids = Daemons(what);
  if (pids.empty()) return 0;
  return kill(pids.front(), SIGKILL) == 0 ? pids.front() : 0;
}

bool FaultJob::SignalLauncher(int signal) { return group_.Signal("local", signal); }

int FaultJob::Wait(std::chrono::seconds timeout) {
  auto exit = group_.WaitAny(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  if (!exit) return -1;
  exited_ = true;
  return exit->exit_code;
}

nlohmann::json FaultJob::Summary() const {
  return nlohmann::json::parse(ReadFile(dir_.File(name_ + ".json")), nullptr, false);
}

nlohmann::json FaultJob::TrainStats() const {
  return nlohmann::json::parse(ReadFile(run_dir() + "/train_stats.json"), nullptr, false);
}

FaultData GenerateFaultData(const ScratchDir& dir, uint64_t train_rows, uint64_t test_rows, uint64_t seed) {
  return {GenerateCriteoFile(dir, "train.tsv", train_rows, seed), GenerateCriteoFile(dir, "test.tsv", test_rows, seed + 1)};
}

std::vector<std::string> FaultJobArgs(const FaultData& data, int passes, int batch_size,
                                      std::vector<std::string> extra) {
  std::vector<std::string> args = {"--train=" + data.train, "--test=" + data.test, "--servers=2", "--workers=2",
                                   "--passes=" + std::to_string(passes), "--batch_size=" + std::to_string(batch_size),
                                   "--node_flags=--heartbeat_interval_ms=200"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

ModelRows ReadExportedRows(const std::string& model_dir) {
  ModelRows rows;
  for (const auto& entry : std::filesystem::directory_iterator(model_dir)) {
    if (entry.path().extension() != ".epsmodel") continue;
    auto shard = ReadModelShard(entry.path().string());
    EXPECT_TRUE(shard.ok()) << shard.status().ToString();
    if (!shard.ok()) continue;
    for (size_t i = 0; i < shard->keys.size(); ++i) {
      const float* v = shard->values.data() + i * shard->dim;
      EXPECT_TRUE(rows[shard->table].emplace(shard->keys[i], std::vector<float>(v, v + shard->dim)).second)
          << "key " << shard->keys[i] << " exported twice";
    }
  }
  return rows;
}

uint64_t CountLines(const std::string& file, uint64_t begin, uint64_t end) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(begin));
  std::string chunk(end - begin, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  return static_cast<uint64_t>(std::count(chunk.begin(), chunk.end(), '\n'));
}

}  // namespace embedps::testing
