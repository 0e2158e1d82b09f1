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

  const pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: die with the launcher, even if it is SIGKILLed.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int fd = open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      if (!spec.inherit_stdout) dup2(fd, STDOUT_FILENO);
      close(fd);
    }
    execv(spec.binary.c_str(), argv.data());
    dprintf(STDERR_FILENO, "%s: error: exec failed: %s\n", spec.binary.c_str(), std::strerror(errno));
    _exit(127);
  }
  children_.push_back(Child{pid, spec});
  return pid;
}

std::optional<ChildExit> ProcessGroup::WaitAny(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!children_.empty()) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (auto it = children_.begin(); it != children_.end(); ++it) {
        if (it->pid != pid) continue;
        ChildExit exit{it->spec.name, pid, 0, false, it->spec.log_file};
        if (WIFEXITED(status)) {
          exit.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
          exit.signaled = true;
          exit.exit_code = 128 + WTERMSIG(status);
        }
        children_.erase(it);
        return exit;
      }
      continue;  // not ours
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

void ProcessGroup::TerminateAll(std::chrono::milliseconds grace) {
  for (const auto& c : children_) kill(c.pid, grace.count() > 0 ? SIGTERM : SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
    WaitAny(std::chrono::milliseconds(50));
  }
  for (const auto& c : children_) kill(c.pid, SIGKILL);
  for (const auto& c : children_) waitpid(c.pid, nullptr, 0);
  children_.clear();
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
