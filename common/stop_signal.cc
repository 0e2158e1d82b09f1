#include "common/stop_signal.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

namespace embedps {
namespace {

std::atomic<bool> g_stop{false};

}  // namespace

void InstallStopOnSigterm() {
  // Blocked in every thread (threads started later inherit the mask) and
  // taken by one thread with sigwait: no ZeroMQ call elsewhere is ever
  // interrupted (EINTR), and glog's crash handler never sees it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) {
      if (sig == SIGTERM) g_stop.store(true);
    }
  }).detach();
}

bool StopSignalled() { return g_stop.load(); }

}  // namespace embedps
