#include "launch/job_control.h"

#include <signal.h>
#include <stdlib.h>

#include <filesystem>

namespace embedps::launch {
namespace {

// A signal handler can only reach a global.
volatile sig_atomic_t g_sigint = 0;
volatile sig_atomic_t g_sigterm = 0;
void OnSigint(int) { g_sigint = 1; }
void OnSigterm(int) { g_sigterm = 1; }

}  // namespace

void InstallInterruptHandler() {
  signal(SIGINT, OnSigint);
  signal(SIGTERM, OnSigterm);
}

bool Interrupted() { return g_sigint != 0 || g_sigterm != 0; }

bool TerminateRequested() { return g_sigterm != 0 && g_sigint == 0; }

StatusOr<std::string> MakeJobDir(const std::string& requested, const std::string& prefix) {
  std::string dir = requested;
  if (dir.empty()) {
    std::string templ = "/tmp/" + prefix + "-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) return Unavailable("cannot create a job directory in /tmp");
    dir = templ;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir + "/logs", ec);
  if (ec) return Unavailable("cannot create " + dir + "/logs: " + ec.message());
  return std::filesystem::absolute(dir).string();
}

Status AwaitGroup(ProcessGroup& group, std::chrono::seconds timeout,
                  const std::function<Status(const ChildExit&)>& describe) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (group.running() > 0) {
    if (Interrupted()) return Aborted("interrupted; stopped all processes");
    if (std::chrono::steady_clock::now() > deadline) {
      return DeadlineExceeded("job did not finish within --timeout_s=" +
                              std::to_string(timeout.count()));
    }
    auto exit = group.WaitAny(std::chrono::milliseconds(200));
    if (exit && exit->exit_code != 0) return describe(*exit);
  }
  return Status::OK();
}

}  // namespace embedps::launch
