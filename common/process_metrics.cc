#include "common/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/build_info.h"

namespace embedps {
namespace {

void Family(std::string* out, const char* name, const char* type, const char* help, double value) {
  char line[512];
  std::snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
  *out += line;
}

// The seconds since the epoch at which the machine booted (/proc/stat's
// btime), to turn the start time in clock ticks into a Unix time.
double BootTime() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime" && stat >> value) return value;
  }
  return 0;
}

void AppendProcess(std::string* out) {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string s; fields >> s;) f.push_back(s);
  if (f.size() < 22) return;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime + stime
  const double start = BootTime() + std::stod(f[19]) / ticks;        // starttime
  Family(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu);
  Family(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
         start);
  Family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", std::stod(f[20]));
  Family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", std::stod(f[21]) * page);
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) Family(out, "process_open_fds", "gauge", "Number of open file descriptors.", fds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    Family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
           static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace

uint64_t ResidentBytes() {
  // /proc/self/statm: size resident shared ... in pages.
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string ProcessMetricsText() {
  std::string out;
  AppendProcess(&out);
  out += "# HELP embedps_build_info The version and git commit this binary was built from (always 1).\n";
  out += "# TYPE embedps_build_info gauge\n";
  out += std::string("embedps_build_info{version=\"") + BuildVersion() + "\",commit=\"" + BuildCommit() + "\"} 1\n";
  return out;
}

}  // namespace embedps
