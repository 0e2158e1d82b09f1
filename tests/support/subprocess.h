// Runs the project's binaries from tests: start one, wait for it with a
// deadline, and read what it printed. Built on the launcher's ProcessGroup,
// so a test that fails midway still kills what it started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "launch/process_group.h"

namespace embedps::testing {

struct RunResult {
  int exit_code = -1;     // 128 + signal when killed; -1 on timeout
  bool signaled = false;
  bool timed_out = false;
  std::string output;     // stdout and stderr together
};

// How many times slower than a plain build the binaries run: 1, or more in
// sanitized builds (-DEMBEDPS_TSAN / -DEMBEDPS_ASAN), whose deadlines
// stretch by this factor so that a test fails on a finding, not on time.
int TimeoutScale();

// Runs bin/<binary> with `args`, capturing its output in `log_file`, and
// kills it if it runs longer than `timeout` (times TimeoutScale()).
RunResult RunBinary(const std::string& binary, const std::vector<std::string>& args,
                    const std::string& log_file, std::chrono::seconds timeout);

// The same for any program, given by absolute path.
RunResult RunProgram(const std::string& path, const std::vector<std::string>& args,
                     const std::string& log_file, std::chrono::seconds timeout);

// Waits up to `timeout` until no live process's command line contains
// `needle`; returns the pids still running then (empty: none left).
std::vector<pid_t> AwaitNoProcessMatching(const std::string& needle, std::chrono::seconds timeout);

// Reads a whole file ("" when missing).
std::string ReadFile(const std::string& path);

// The integers written just before each occurrence of `suffix` in `text`
// ("12 duplicates suppressed" gives 12 for suffix " duplicates suppressed").
std::vector<uint64_t> NumbersBefore(const std::string& text, const std::string& suffix);

// Pids of live processes whose command line contains `needle`.
std::vector<pid_t> ProcessesMatching(const std::string& needle);

}  // namespace embedps::testing
