// `embedps keygen`: writes a cluster's CURVE keys (see docs/security.md):
//   embedps keygen --out DIR [--servers S --workers W --standby_servers N]
//                                                        a new key directory
//                                                        with role-bound keys
//   embedps keygen --out DIR --nodes N                   ... with N keys that
//                                                        admit any role
//   embedps keygen --out DIR --add NAME --role ROLE      one more node key
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/security/curve_keys.h"
#include "common/status.h"

namespace embedps::launch {

struct KeygenOptions {
  std::string out;
  // New directory: with nodes > 0, keys named node-0 .. node-(nodes-1) that
  // admit any role; otherwise server-0.. and worker-0.., each bound to its role.
  uint32_t nodes = 0;
  uint32_t servers = 2;
  uint32_t workers = 2;
  // Spare servers' keys, standby-S .. (S = servers), as `embedps local
  // --standby_servers` names them.
  uint32_t standby_servers = 0;
  // Existing directory: add this one node key, bound to `add_role`
  // (required: scheduler, server, worker, client or any).
  std::string add;
  std::string add_role;
};

// The node keys of a new directory: `servers` server keys, `standby_servers`
// spare server keys and `workers` worker keys, named after the nodes
// launchers start (server-0, standby-2, worker-1 ...) and bound to their role.
std::vector<security::NodeKeySpec> RoleNodeKeys(uint32_t servers, uint32_t workers, uint32_t standby_servers);

// The names keygen gives `count` node keys that admit any role.
std::vector<std::string> DefaultNodeKeyNames(uint32_t count);

// Writes the keys and prints a short summary of what went where.
Status RunKeygen(const KeygenOptions& options);

}  // namespace embedps::launch
