// One simulated job, chosen by its seed: a cluster (the real scheduler core
// with simulated servers and workers), a fault plan, and the invariants
// checked during and after the run. RunSeed replays exactly for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace embedps::sim {

struct SimOptions {
  bool faults = true;
};

struct SeedResult {
  uint64_t seed = 0;
  bool job_ok = false;
  std::string outcome;  // "finished" or why the job failed
  std::string faults;   // the plan, in words
  std::vector<std::string> violations;
  std::vector<std::string> trace;
  uint64_t events = 0;
  double sim_seconds = 0;
  bool exact_sums_checked = false;  // --replicas=2 and no restore from a checkpoint
};

SeedResult RunSeed(uint64_t seed, const SimOptions& options);

}  // namespace embedps::sim
