// Turns a hostfile into the ssh launcher's nodes: names, ranks and the ports
// each node uses on its machine.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "launch/hostfile.h"

namespace embedps::launch {

struct PortOptions {
  int base_port = 29500;     // first ZeroMQ port on every machine
  int http_base_port = -1;   // first HTTP (metrics) port on every machine; -1: HTTP off
};

struct PlannedNode {
  std::string name;         // "scheduler", "server-0", "worker-3"
  std::string role;         // "scheduler", "server" or "worker"
  int rank = 0;             // within its role
  std::string destination;  // what ssh connects to ([user@]host)
  std::string host;         // the address other nodes use
  std::string machine;      // what tells machines apart (the resolved address)
  int slot = 0;             // index among the nodes on its machine
  int port = 0;             // base_port + slot (only the scheduler and servers listen on it)
  int http_port = -1;       // http_base_port + slot, or -1
};

// Expands `entries` into nodes: the scheduler first, then servers and
// workers in hostfile order, ranks counted per role. The k-th node on a
// machine gets slot k, so nodes sharing a machine never share a port.
// Machines are told apart by the address their host name resolves to here,
// so "localhost" and "127.0.0.1" count as one. InvalidArgument when a port
// range leaves 1..65535 or the ZeroMQ and HTTP ranges overlap.
StatusOr<std::vector<PlannedNode>> PlanNodes(const std::vector<HostfileEntry>& entries,
                                             const PortOptions& ports);

}  // namespace embedps::launch
