// Starts child processes and guarantees none outlives the launcher: each
// child gets PR_SET_PDEATHSIG(SIGKILL), and the group kills and reaps every
// child it still holds when it is destroyed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace embedps::launch {

struct ChildSpec {
  std::string name;    // e.g. "worker-1", used in messages
  std::string binary;  // absolute path
  std::vector<std::string> args;
  std::string log_file;        // receives stderr, and stdout unless inherited
  bool inherit_stdout = false;  // progress output goes straight to the user
};

struct ChildExit {
  std::string name;
  pid_t pid = 0;
  int exit_code = 0;  // for a signal: 128 + signal number
  bool signaled = false;
  std::string log_file;
};

class ProcessGroup {
 public:
  ProcessGroup() = default;
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  // Forks and execs `spec`. NotFound when the binary is missing; Internal
  // when fork fails.
  StatusOr<pid_t> Start(const ChildSpec& spec);

  // Waits up to `timeout` for one child to exit and returns it.
  std::optional<ChildExit> WaitAny(std::chrono::milliseconds timeout);

  // SIGTERM to every running child, then SIGKILL to whatever is left after
  // `grace`; reaps them all.
  void TerminateAll(std::chrono::milliseconds grace);

  size_t running() const { return children_.size(); }

 private:
  struct Child {
    pid_t pid;
    ChildSpec spec;
  };
  std::vector<Child> children_;
};

// The last non-empty line of `path` that looks like an error (or simply the
// last line), to explain why a child failed.
std::string LastErrorLine(const std::string& path);

}  // namespace embedps::launch
