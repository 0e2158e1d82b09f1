#include "sim/sim_env.h"

#include <algorithm>
#include <cstdio>

namespace embedps::sim {

void Env::Violation(const std::string& what) {
  char t[32];
  std::snprintf(t, sizeof(t), "%.3f s: ", world.Seconds());
  violations.push_back(t + what);
  Trace("VIOLATION " + what);
}

void Env::CheckEpoch(const std::string& node, uint64_t epoch, uint64_t* last) {
  if (epoch < *last) {
    Violation(node + " got shard map epoch " + std::to_string(epoch) + " after " + std::to_string(*last));
  }
  *last = std::max(*last, epoch);
}

void Env::Trace(const std::string& what) {
  char t[32];
  std::snprintf(t, sizeof(t), "%9.3f ", world.Seconds());
  trace.push_back(t + what);
}

}  // namespace embedps::sim
