// An `embedps local` job for fault tests: started in the background with
// the given flags, watched through its output, with helpers to find and
// SIGKILL its daemons and to read what it wrote (summary, statistics,
// exported model).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "launch/process_group.h"
#include "tests/support/test_dirs.h"

namespace embedps::testing {

class FaultJob {
 public:
  // `name` names the run directory and output file inside `dir`.
  FaultJob(const ScratchDir& dir, std::string name, std::vector<std::string> args);
  ~FaultJob();  // kills the job if it still runs

  std::string run_dir() const { return dir_.File(name_); }
  std::string output() const;
  // Waits until the output contains `text`; false after `timeout` or when
  // the job ended first.
  bool AwaitOutput(const std::string& text, std::chrono::seconds timeout);
  // Pids of this job's daemons whose command line contains `what`.
  std::vector<pid_t> Daemons(const std::string& what) const;
  // SIGKILLs the first daemon matching `what`; its pid, or 0 if none.
  pid_t Kill(const std::string& what);
  // Sends `signal` to the `embedps local` process itself.
  bool SignalLauncher(int signal);
  // Waits for `embedps local` to exit: its exit code, or -1 after `timeout`.
  int Wait(std::chrono::seconds timeout);

  nlohmann::json Summary() const;     // --summary_json
  nlohmann::json TrainStats() const;  // RUN_DIR/train_stats.json

 private:
  const ScratchDir& dir_;
  std::string name_;
  launch::ProcessGroup group_;
  std::string needle_;  // in every daemon's command line (the cluster token)
  bool exited_ = false;
};

// Generated training and test files for a fault test's jobs.
struct FaultData {
  std::string train;
  std::string test;
};
// `train_rows` and `test_rows` rows of synthetic Criteo data in `dir`, from
// seeds `seed` and `seed + 1`.
FaultData GenerateFaultData(const ScratchDir& dir, uint64_t train_rows, uint64_t test_rows, uint64_t seed);
// The flags every fault test's job shares (2 servers, 2 workers, heartbeats
// every 200 ms so deaths are noticed quickly), then `extra`.
std::vector<std::string> FaultJobArgs(const FaultData& data, int passes, int batch_size,
                                      std::vector<std::string> extra);

// Every row of an exported model directory: table -> key -> values.
using ModelRows = std::map<uint32_t, std::map<uint64_t, std::vector<float>>>;
ModelRows ReadExportedRows(const std::string& model_dir);

// Lines in bytes [begin, end) of `file` (a range that starts and ends at
// line starts, as partitions do).
uint64_t CountLines(const std::string& file, uint64_t begin, uint64_t end);

}  // namespace embedps::testing
