#include "launch/process_group.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

namespace embedps::launch {
namespace {

// Runs in the forked child: wires up stdio and never returns.
[[noreturn]] void ExecChild(const ChildSpec& spec, std::vector<char*>& argv, pid_t parent,
                            int stdin_read) {
  // Die with the launcher, even if it is SIGKILLed.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  if (spec.own_process_group) setpgid(0, 0);
  if (stdin_read >= 0) {
    dup2(stdin_read, STDIN_FILENO);
    close(stdin_read);
  }
  int fd = open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, STDERR_FILENO);
    if (!spec.inherit_stdout) dup2(fd, STDOUT_FILENO);
    close(fd);
  }
  if (!spec.stdout_file.empty()) {
    int out = open(spec.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      close(out);
    }
  }
  execv(spec.binary.c_str(), argv.data());
  dprintf(STDERR_FILENO, "%s: error: exec failed: %s\n", spec.binary.c_str(), std::strerror(errno));
  _exit(127);
}

}  // namespace

ProcessGroup::~ProcessGroup() { TerminateAll(std::chrono::milliseconds(0)); }

StatusOr<pid_t> ProcessGroup::Start(const ChildSpec& spec) {
  if (access(spec.binary.c_str(), X_OK) != 0) {
    return NotFound("cannot run " + spec.binary + ": " + std::strerror(errno));
  }
  std::vector<std::string> argv_storage = {spec.binary};
  argv_storage.insert(argv_storage.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();

  // Both ends close on exec, so no other child inherits them; the child
  // dup2()s the read end onto its stdin, which clears the flag there.
  int pipe_fds[2] = {-1, -1};
  if (spec.stdin_pipe && pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Internal(std::string("pipe failed: ") + std::strerror(errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : pipe_fds) {
      if (fd >= 0) close(fd);
    }
    return Internal(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) ExecChild(spec, argv, parent, pipe_fds[0]);
  if (pipe_fds[0] >= 0) close(pipe_fds[0]);
  children_.push_back(Child{pid, spec, pipe_fds[1]});
  return pid;
}

void ProcessGroup::Forget(std::vector<Child>::iterator it) {
  if (it->stdin_fd >= 0) close(it->stdin_fd);
  children_.erase(it);
}

std::optional<ChildExit> ProcessGroup::WaitAny(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!children_.empty()) {
    for (auto it = children_.begin(); it != children_.end(); ++it) {
      int status = 0;
      if (waitpid(it->pid, &status, WNOHANG) != it->pid) continue;
      ChildExit exit{it->spec.name, it->pid, 0, false, it->spec.log_file};
      if (WIFEXITED(status)) {
        exit.exit_code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        exit.signaled = true;
        exit.exit_code = 128 + WTERMSIG(status);
      }
      Forget(it);
      return exit;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

void ProcessGroup::CloseAllStdin() {
  for (auto& c : children_) {
    if (c.stdin_fd >= 0) close(c.stdin_fd);
    c.stdin_fd = -1;
  }
}

bool ProcessGroup::Signal(const std::string& name, int signal) {
  for (const auto& c : children_) {
    if (c.spec.name == name) return kill(c.pid, signal) == 0;
  }
  return false;
}

void ProcessGroup::TerminateAll(std::chrono::milliseconds grace) {
  for (const auto& c : children_) kill(c.pid, grace.count() > 0 ? SIGTERM : SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
    WaitAny(std::chrono::milliseconds(50));
  }
  for (const auto& c : children_) kill(c.pid, SIGKILL);
  for (const auto& c : children_) waitpid(c.pid, nullptr, 0);
  CloseAllStdin();
  children_.clear();
}

Status DescribeExit(const ChildExit& exit) {
  std::string why = LastErrorLine(exit.log_file);
  std::string how = exit.signaled ? "was killed by signal " + std::to_string(exit.exit_code - 128)
                                  : "exited with code " + std::to_string(exit.exit_code);
  return Aborted(exit.name + " " + how + (why.empty() ? "" : ": " + why) + " (log: " +
                 exit.log_file + ")");
}

std::string LastErrorLine(const std::string& path) {
  std::ifstream in(path);
  std::string line, last, last_error;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = line;
    if (line.find("error") != std::string::npos || line.rfind("F", 0) == 0 ||
        line.rfind("E", 0) == 0) {
      last_error = line;
    }
  }
  return last_error.empty() ? last : last_error;
}

}  // namespace embedps::launch
