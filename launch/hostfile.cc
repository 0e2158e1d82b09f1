#include "launch/hostfile.h"

#include <fstream>
#include <sstream>

namespace embedps::launch {
namespace {

constexpr int kMaxCount = 256;

StatusOr<HostfileEntry> ParseLine(const std::string& line, int number, const std::string& where) {
  std::istringstream in(line);
  HostfileEntry e;
  std::string count, extra;
  in >> e.destination >> e.role >> count;
  if (count.empty()) {
    return InvalidArgument(where + ": expected 'host role count', got '" + line + "'");
  }
  if (in >> extra) return InvalidArgument(where + ": unexpected '" + extra + "' after the count");
  if (e.role != "scheduler" && e.role != "server" && e.role != "worker") {
    return InvalidArgument(where + ": unknown role '" + e.role +
                           "' (expected scheduler, server or worker)");
  }
  char* end = nullptr;
  const long n = std::strtol(count.c_str(), &end, 10);
  if (*end != '\0' || n < 1 || n > kMaxCount) {
    return InvalidArgument(where + ": count must be an integer in 1.." + std::to_string(kMaxCount) +
                           ", got '" + count + "'");
  }
  e.count = static_cast<int>(n);
  const size_t at = e.destination.rfind('@');
  e.host = at == std::string::npos ? e.destination : e.destination.substr(at + 1);
  if (e.host.empty()) return InvalidArgument(where + ": empty host in '" + e.destination + "'");
  e.line = number;
  return e;
}

}  // namespace

StatusOr<std::vector<HostfileEntry>> ParseHostfile(const std::string& text, const std::string& name) {
  std::vector<HostfileEntry> entries;
  std::istringstream in(text);
  std::string line;
  int number = 0, schedulers = 0, servers = 0, workers = 0;
  while (std::getline(in, line)) {
    ++number;
    line = line.substr(0, line.find('#'));
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(number);
    ASSIGN_OR_RETURN(HostfileEntry e, ParseLine(line, number, where));
    if (e.role == "scheduler") {
      schedulers += e.count;
      if (schedulers > 1) return InvalidArgument(where + ": only one scheduler may be given");
    } else {
      (e.role == "server" ? servers : workers) += e.count;
    }
    entries.push_back(std::move(e));
  }
  if (schedulers == 0) return InvalidArgument(name + ": no scheduler line (e.g. 'node1 scheduler 1')");
  if (servers == 0) return InvalidArgument(name + ": no server line (e.g. 'node2 server 2')");
  if (workers == 0) return InvalidArgument(name + ": no worker line (e.g. 'node3 worker 2')");
  return entries;
}

StatusOr<std::vector<HostfileEntry>> ReadHostfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("hostfile " + path + " cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseHostfile(ss.str(), path);
}

}  // namespace embedps::launch
