#include "tests/support/subprocess.h"

#include <dirent.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/test_dirs.h"

namespace embedps::testing {

int TimeoutScale() { return EMBEDPS_TIMEOUT_SCALE; }

RunResult RunBinary(const std::string& binary, const std::vector<std::string>& args,
                    const std::string& log_file, std::chrono::seconds timeout) {
  return RunProgram(BinDir() + "/" + binary, args, log_file, timeout);
}

RunResult RunProgram(const std::string& path, const std::vector<std::string>& args,
                     const std::string& log_file, std::chrono::seconds timeout) {
  RunResult result;
  launch::ProcessGroup group;
  launch::ChildSpec spec{path, path, args, log_file, false};
  auto pid = group.Start(spec);
  if (!pid.ok()) {
    result.output = pid.status().ToString();
    return result;
  }
  auto exit = group.WaitAny(timeout * TimeoutScale());
  if (!exit) {
    result.timed_out = true;
    group.TerminateAll(std::chrono::milliseconds(0));
  } else {
    result.exit_code = exit->exit_code;
    result.signaled = exit->signaled;
  }
  result.output = ReadFile(log_file);
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<pid_t> ProcessesMatching(const std::string& needle) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  const pid_t self = getpid();
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(atoi(entry->d_name));
    if (pid <= 0 || pid == self) continue;
    std::string cmdline = ReadFile("/proc/" + std::string(entry->d_name) + "/cmdline");
    for (auto& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    // Zombies have an empty command line and are not running anything.
    if (!cmdline.empty() && cmdline.find(needle) != std::string::npos) pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

std::vector<pid_t> AwaitNoProcessMatching(const std::string& needle, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<pid_t> left = ProcessesMatching(needle);
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = ProcessesMatching(needle);
  }
  return left;
}

std::vector<uint64_t> NumbersBefore(const std::string& text, const std::string& suffix) {
  std::vector<uint64_t> out;
  for (size_t at = text.find(suffix); at != std::string::npos; at = text.find(suffix, at + 1)) {
    size_t begin = at;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(text[begin - 1]))) --begin;
    if (begin < at) out.push_back(std::stoull(text.substr(begin, at - begin)));
  }
  return out;
}

}  // namespace embedps::testing
