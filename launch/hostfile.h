// The ssh launcher's hostfile: one `host role count` line per group of nodes,
// e.g.
//   # host            role       count
//   node1             scheduler  1
//   alice@node2       server     2
//   node3             worker     4
// `#` starts a comment; blank lines are ignored. `host` is what ssh connects
// to ([user@]host); the part after `@` is also the address other nodes use
// to reach the node, so it must resolve on every host.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace embedps::launch {

struct HostfileEntry {
  std::string destination;  // as written: [user@]host
  std::string host;         // without user@
  std::string role;         // "scheduler", "server" or "worker"
  int count = 0;
  int line = 0;  // 1-based, for messages
};

// Parses hostfile text; `name` prefixes every error ("NAME:LINE: ..."). The
// file must name exactly one scheduler (count 1), at least one server and at
// least one worker; counts are 1..256.
StatusOr<std::vector<HostfileEntry>> ParseHostfile(const std::string& text, const std::string& name);

// Reads and parses the file at `path`; NotFound when it cannot be read.
StatusOr<std::vector<HostfileEntry>> ReadHostfile(const std::string& path);

}  // namespace embedps::launch
