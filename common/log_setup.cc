#include "common/log_setup.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <ostream>

#include <glog/logging.h>

namespace embedps {
namespace {

// Read by the prefix callback on whatever thread logs; set before glog
// starts (job, role) or atomically (rank).
struct LogContext {
  std::string job_id;
  std::string role;
  std::atomic<int64_t> rank{-1};
};
LogContext g_context;

void WritePrefix(std::ostream& s, const google::LogMessageInfo& l, void* data) {
  const auto* c = static_cast<const LogContext*>(data);
  const auto& t = l.time;
  s << l.severity[0] << std::setw(2) << std::setfill('0') << 1 + t.month() << std::setw(2)
    << t.day() << ' ' << std::setw(2) << t.hour() << ':' << std::setw(2) << t.min() << ':'
    << std::setw(2) << t.sec() << '.' << std::setw(6) << t.usec() << std::setfill(' ') << ' '
    << l.thread_id << " [job=" << c->job_id << ' ' << c->role;
  const int64_t rank = c->rank.load(std::memory_order_relaxed);
  if (c->role != "scheduler") {
    if (rank >= 0) {
      s << '=' << rank;
    } else {
      s << "=?";
    }
  }
  s << "] " << l.filename << ':' << l.line_number << "]";
}

}  // namespace

void InitLogging(const char* argv0, const std::string& job_id, wire::Role role) {
  g_context.job_id = job_id;
  g_context.role = wire::RoleName(role);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv0, &WritePrefix, &g_context);
}

void SetLogRank(uint32_t rank) { g_context.rank.store(rank, std::memory_order_relaxed); }

StatusOr<std::string> RedirectLogToDir(const std::string& dir, wire::Role role) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create log directory " + dir + ": " + ec.message());
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  const std::string path = (std::filesystem::absolute(dir) /
                            (std::string(wire::RoleName(role)) + "-" + host + "-" +
                             std::to_string(getpid()) + ".log"))
                               .string();
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot open log file " + path + ": " + std::strerror(errno));
  dup2(fd, STDERR_FILENO);
  close(fd);
  return path;
}

}  // namespace embedps
