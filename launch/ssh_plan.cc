#include "launch/ssh_plan.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>

namespace embedps::launch {
namespace {

// The first address `host` resolves to (IPv4 first, as ZeroMQ connects over
// IPv4, and "localhost" may list ::1 first), or `host` itself when it does
// not resolve here (it may still resolve remotely, e.g. an ssh alias).
std::string MachineKey(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  for (int family : {AF_INET, AF_UNSPEC}) {
    hints.ai_family = family;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) == 0 && found != nullptr) break;
    found = nullptr;
  }
  if (found == nullptr) return host;
  char text[NI_MAXHOST] = {0};
  const int rc = getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof(text), nullptr, 0,
                             NI_NUMERICHOST);
  freeaddrinfo(found);
  return rc == 0 ? std::string(text) : host;
}

Status CheckRange(const char* flag, int first, int slots) {
  if (first < 1 || first + slots - 1 > 65535) {
    return InvalidArgument(std::string("--") + flag + "=" + std::to_string(first) + " leaves no room for " +
                           std::to_string(slots) + " ports on one machine (ports must stay in 1..65535)");
  }
  return Status::OK();
}

}  // namespace

StatusOr<std::vector<PlannedNode>> PlanNodes(const std::vector<HostfileEntry>& entries,
                                             const PortOptions& ports) {
  std::vector<PlannedNode> nodes;
  std::map<std::string, int> next_slot;  // machine key -> slots used
  std::map<std::string, int> next_rank;  // role -> ranks used
  for (const char* role : {"scheduler", "server", "worker"}) {
    for (const HostfileEntry& e : entries) {
      if (e.role != role) continue;
      const std::string machine = MachineKey(e.host);
      int& slot = next_slot[machine];
      for (int i = 0; i < e.count; ++i) {
        PlannedNode n;
        n.role = e.role;
        n.rank = next_rank[e.role]++;
        n.name = e.role == "scheduler" ? e.role : e.role + "-" + std::to_string(n.rank);
        n.destination = e.destination;
        n.host = e.host;
        n.machine = machine;
        n.slot = slot++;
        n.port = ports.base_port + n.slot;
        n.http_port = ports.http_base_port < 0 ? -1 : ports.http_base_port + n.slot;
        nodes.push_back(std::move(n));
      }
    }
  }
  int slots = 0;
  for (const auto& [machine, used] : next_slot) slots = std::max(slots, used);
  RETURN_IF_ERROR(CheckRange("base_port", ports.base_port, slots));
  if (ports.http_base_port >= 0) {
    RETURN_IF_ERROR(CheckRange("http_base_port", ports.http_base_port, slots));
    if (ports.http_base_port < ports.base_port + slots && ports.base_port < ports.http_base_port + slots) {
      return InvalidArgument("--http_base_port=" + std::to_string(ports.http_base_port) +
                             " overlaps the ZeroMQ ports " + std::to_string(ports.base_port) + ".." +
                             std::to_string(ports.base_port + slots - 1));
    }
  }
  return nodes;
}

}  // namespace embedps::launch
