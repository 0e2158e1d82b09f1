// embedps-sim: runs simulated jobs, one per seed, with the real scheduler
// core, simulated servers and workers, and random faults; checks the
// invariants (docs/simulation.md) and prints any violation with its seed
// and event trace. A seed replays exactly: --seed S --seeds 1 --trace.
#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <string>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "sim/sim_job.h"

DEFINE_uint64(seed, 1, "First seed");
DEFINE_uint64(seeds, 1000, "How many seeds, from --seed on");
DEFINE_bool(faults, true, "Inject faults (kills, stalls, full disks)");
DEFINE_bool(trace, false, "Print every seed's event trace, not only failing ones'");
DEFINE_uint32(max_failures, 3, "Stop after this many seeds with violations");
DEFINE_bool(outcomes, false, "Print how many jobs ended each way (numbers in the reasons folded)");

int main(int argc, char** argv) {
  gflags::SetUsageMessage("embedps-sim [--seed S] [--seeds N] [--trace]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  // The scheduler core logs as the daemon does; thousands of jobs would
  // drown the report.
  FLAGS_minloglevel = 3;
  google::InitGoogleLogging(argv[0]);
  embedps::sim::SimOptions options;
  options.faults = FLAGS_faults;
  const auto start = std::chrono::steady_clock::now();
  uint64_t ok = 0, failed_as_allowed = 0, events = 0, failures = 0, run = 0, exact = 0;
  std::map<std::string, uint64_t> outcomes;
  const std::regex number("[0-9]+");
  for (uint64_t seed = FLAGS_seed; seed < FLAGS_seed + FLAGS_seeds; ++seed) {
    const embedps::sim::SeedResult r = embedps::sim::RunSeed(seed, options);
    ++run;
    events += r.events;
    if (r.job_ok) ++ok;
    exact += r.exact_sums_checked;
    if (FLAGS_outcomes) ++outcomes[std::regex_replace(r.outcome, number, "N")];
    if (!r.job_ok && r.violations.empty()) ++failed_as_allowed;
    if (FLAGS_trace || !r.violations.empty()) {
      std::printf("seed %llu: %s; faults: %s; %.2f simulated s, %llu events\n",
                  static_cast<unsigned long long>(seed), r.outcome.c_str(), r.faults.c_str(), r.sim_seconds,
                  static_cast<unsigned long long>(r.events));
      for (const auto& line : r.trace) std::printf("  %s\n", line.c_str());
      for (const auto& v : r.violations) std::printf("  VIOLATED: %s\n", v.c_str());
    }
    if (!r.violations.empty() && ++failures >= FLAGS_max_failures) break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("embedps-sim: %llu seeds from %llu: %llu jobs finished, %llu failed as they must (a server lost "
              "before the first checkpoint), %llu with violations; %llu with exact sums checked (--replicas=2); "
              "%llu events; %.1f s, %.0f seeds/s\n",
              static_cast<unsigned long long>(run), static_cast<unsigned long long>(FLAGS_seed),
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed_as_allowed),
              static_cast<unsigned long long>(failures), static_cast<unsigned long long>(exact),
              static_cast<unsigned long long>(events), seconds,
              run / seconds);
  for (const auto& [outcome, n] : outcomes) std::printf("%6llu  %s\n", static_cast<unsigned long long>(n), outcome.c_str());
  return failures == 0 ? 0 : 1;
}
