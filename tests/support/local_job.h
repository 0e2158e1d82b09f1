// An `embedps local` job running in the background for tests that watch or
// steer a live job over HTTP: small generated data trained for many passes
// (so it stays live for a while), bounded by --timeout_s, with POST /stop
// enabled under a token the test holds.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "launch/process_group.h"
#include "tests/support/test_dirs.h"

namespace embedps::testing {

class LocalJob {
 public:
  // Runs in `dir` (data, run directory, token, output).
  // `extra`: more `embedps local` flags (e.g. periodic evaluation).
  explicit LocalJob(const ScratchDir& dir, int passes = 300, std::vector<std::string> extra = {});
  ~LocalJob();  // kills the job if it still runs

  // Generates the data, starts the job and waits until it trains and its
  // status shows at least `samples` history samples.
  Status Start(size_t samples = 2);

  // The scheduler's HTTP address, HOST:PORT.
  const std::string& scheduler() const { return scheduler_; }
  const std::string& token_file() const { return token_file_; }
  std::string summary_file() const { return dir_.File("summary.json"); }
  std::string output() const;

  // GET /status as JSON.
  StatusOr<nlohmann::json> FetchStatus() const;

  // Waits for `embedps local` to exit; its exit code, or -1 after `timeout`.
  int Wait(std::chrono::seconds timeout);

 private:
  const ScratchDir& dir_;
  int passes_;
  std::vector<std::string> extra_;
  launch::ProcessGroup group_;
  std::string scheduler_;
  std::string token_file_;
};

}  // namespace embedps::testing
