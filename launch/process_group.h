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
  // When set, stdout goes to this file instead (e.g. a file fetched by `ssh cat`).
  std::string stdout_file = {};
  // Gives the child a pipe as stdin that stays open until CloseAllStdin() or
  // the child is reaped. Closing it is how a remote node is told to stop: ssh
  // forwards the end of input, and the remote wrapper kills its daemon.
  bool stdin_pipe = false;
  // Starts the child in its own process group, so a Ctrl-C at the terminal
  // reaches only the launcher, which then stops its children in order.
  bool own_process_group = false;
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

  // Waits up to `timeout` for one child of this group to exit and returns it.
  // Only this group's children are reaped, so several groups can coexist.
  std::optional<ChildExit> WaitAny(std::chrono::milliseconds timeout);

  // SIGTERM to every running child, then SIGKILL to whatever is left after
  // `grace`; reaps them all.
  void TerminateAll(std::chrono::milliseconds grace);

  // Sends `signal` to the running child named `name`; false if none runs.
  bool Signal(const std::string& name, int signal);

  // Closes the stdin pipes of every running child (see ChildSpec::stdin_pipe).
  void CloseAllStdin();

  size_t running() const { return children_.size(); }

 private:
  struct Child {
    pid_t pid;
    ChildSpec spec;
    int stdin_fd = -1;  // write end of the child's stdin pipe, or -1
  };
  // Forgets a reaped child and closes its pipe.
  void Forget(std::vector<Child>::iterator it);
  std::vector<Child> children_;
};

// "NAME exited with code N" or "NAME was killed by signal N", followed by the
// child's last error line and its log file, as an Aborted status.
Status DescribeExit(const ChildExit& exit);

// The last non-empty line of `path` that looks like an error (or simply the
// last line), to explain why a child failed.
std::string LastErrorLine(const std::string& path);

}  // namespace embedps::launch
