// `embedps keygen`: writes a cluster's CURVE keys (see docs/security.md):
//   embedps keygen --out DIR [--nodes N]      a new key directory
//   embedps keygen --out DIR --add NAME       one more node key, admitted
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace embedps::launch {

struct KeygenOptions {
  std::string out;
  // New directory: node keys named node-0 .. node-(nodes-1).
  uint32_t nodes = 16;
  // Existing directory: add this one node key instead.
  std::string add;
};

// The names keygen gives `count` node keys.
std::vector<std::string> DefaultNodeKeyNames(uint32_t count);

// Writes the keys and prints a short summary of what went where.
Status RunKeygen(const KeygenOptions& options);

}  // namespace embedps::launch
