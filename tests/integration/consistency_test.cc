// Consistency modes end to end: `embedps local` with two workers, one slowed
// down (test-only --test_batch_delay). Both workers write clock traces
// (test-only --test_clock_trace, steady-clock stamps on one host), and the
// test merges them to measure, at every batch start of one worker, its lead
// over the other worker's acknowledged clock: with --max_staleness=2 it
// never exceeds 2, asynchronously it does. BSP (k=0) completes with an AUC
// close to the asynchronous run's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

struct Event {
  int64_t ns = 0;
  std::string what;
  uint64_t clock = 0;
};

std::vector<Event> ReadTrace(const std::string& path) {
  std::vector<Event> events;
  std::istringstream in(testing::ReadFile(path));
  Event e;
  while (in >> e.ns >> e.what >> e.clock) events.push_back(e);
  return events;
}

// The other worker counts towards the bound from a granted lease until the
// request that found no work left (the scheduler stops counting it when it
// handles that request, so from the request's stamp on).
bool Counts(const std::vector<Event>& other, int64_t t) {
  bool active = false;
  int64_t request_ns = 0;
  for (const Event& e : other) {
    if (e.what == "request") request_ns = e.ns;
    if (e.what == "grant" && e.ns < t) active = true;
    if (e.what == "nogrant" && request_ns < t) active = false;
    if (e.what == "done" && e.ns < t) active = false;
    if (e.ns >= t && e.what != "nogrant") break;
  }
  return active;
}

// The other worker's clock at `t`: acknowledged batches, or a jump to the
// minimum, which the scheduler makes while it handles the worker's partition
// request, so from that request's stamp on (the worker records it later).
uint64_t ClockAt(const std::vector<Event>& other, int64_t t) {
  uint64_t clock = 0;
  int64_t request_ns = 0;
  for (const Event& e : other) {
    if (e.what == "request") request_ns = e.ns;
    if (e.what == "applied" && e.ns < t) clock = std::max(clock, e.clock);
    if (e.what == "jump" && request_ns < t) clock = std::max(clock, e.clock);
    if (request_ns >= t) break;
  }
  return clock;
}

struct Leads {
  uint64_t max_lead = 0;  // over every batch start of either worker
  size_t starts = 0;      // batch starts while the other worker counted
};

Leads MeasureLeads(const std::vector<Event>& a, const std::vector<Event>& b) {
  Leads out;
  for (const auto* pair : {&a, &b}) {
    const auto& self = *pair;
    const auto& other = pair == &a ? b : a;
    for (const Event& e : self) {
      if (e.what != "start" || !Counts(other, e.ns)) continue;
      ++out.starts;
      const uint64_t theirs = ClockAt(other, e.ns);
      if (e.clock > theirs) out.max_lead = std::max(out.max_lead, e.clock - theirs);
    }
  }
  return out;
}

struct JobResult {
  Leads leads;
  double auc = 0;
  std::string worker_logs;
  std::string output;
};

class ConsistencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    train_ = testing::GenerateCriteoFile(dir_, "train.tsv", 60000, 31);
    test_ = testing::GenerateCriteoFile(dir_, "test.tsv", 10000, 32);
  }

  // Worker 0 sleeps `delay_ms` after each of its batches of 500.
  JobResult Run(const std::string& name, int max_staleness, std::vector<std::string> extra = {"--checkpoints=false"},
                int delay_ms = 15) {
    JobResult r;
    const std::string run_dir = dir_.File("run-" + name);
    const std::string summary = dir_.File(name + ".json");
    std::vector<std::string> args = {
        "local", "--model=lr", "--train=" + train_, "--test=" + test_, "--servers=1", "--workers=2",
        "--batch_size=500", "--http_port=-1", "--max_staleness=" + std::to_string(max_staleness),
        "--worker_flags=--test_clock_trace=" + dir_.File(name + ".trace") +
            " --test_batch_delay=0:" + std::to_string(delay_ms),
        "--summary_json=" + summary, "--run_dir=" + run_dir};
    args.insert(args.end(), extra.begin(), extra.end());
    auto run = testing::RunBinary("embedps", args, dir_.File(name + ".log"), std::chrono::seconds(120));
    r.output = run.output;
    EXPECT_EQ(run.exit_code, 0) << run.output;
    if (run.exit_code != 0) return r;
    const auto t0 = ReadTrace(dir_.File(name + ".trace.0"));
    const auto t1 = ReadTrace(dir_.File(name + ".trace.1"));
    EXPECT_FALSE(t0.empty());
    EXPECT_FALSE(t1.empty());
    r.leads = MeasureLeads(t0, t1);
    r.auc = nlohmann::json::parse(testing::ReadFile(summary))["test_auc"].get<double>();
    r.worker_logs = testing::ReadFile(run_dir + "/logs/worker-0.log") + testing::ReadFile(run_dir + "/logs/worker-1.log");
    std::printf("%s: largest lead %llu over %zu batch starts, test AUC %.4f\n", name.c_str(),
                static_cast<unsigned long long>(r.leads.max_lead), r.leads.starts, r.auc);
    return r;
  }

  testing::ScratchDir dir_;
  std::string train_, test_;
};

TEST_F(ConsistencyTest, BoundedStalenessKeepsTheLeadWithinKAndAsyncDoesNot) {
  const JobResult ssp = Run("ssp2", 2);
  ASSERT_GT(ssp.leads.starts, 50u);
  EXPECT_LE(ssp.leads.max_lead, 2u);
  // The bound was reached, so it did the limiting (the fast worker waited).
  EXPECT_EQ(ssp.leads.max_lead, 2u);
  EXPECT_NE(ssp.worker_logs.find("max_staleness 2: largest lead over the slowest worker"), std::string::npos)
      << ssp.worker_logs;

  const JobResult async = Run("async", -1);
  ASSERT_GT(async.leads.starts, 10u);
  EXPECT_GT(async.leads.max_lead, 2u);  // the measurement can see a violation
  EXPECT_NEAR(ssp.auc, async.auc, 0.01);
}

TEST_F(ConsistencyTest, BspRunsInLockstepWithAsyncQuality) {
  const JobResult bsp = Run("bsp", 0);
  ASSERT_GT(bsp.leads.starts, 50u);
  EXPECT_EQ(bsp.leads.max_lead, 0u);
  const JobResult async = Run("async", -1);
  EXPECT_NEAR(bsp.auc, async.auc, 0.01);
  EXPECT_GT(bsp.auc, 0.70);
}

// Checkpoints pause the workers while some of them wait on the bound, and
// workers run out of work at each pass's end (they wait for leases without
// counting): neither may deadlock or break the bound.
TEST_F(ConsistencyTest, CheckpointPausesAndPassEndsDoNotDeadlockTheBound) {
  const JobResult ssp = Run("ssp1-ckpt", 1, {"--passes=2", "--scheduler_flags=--checkpoint_every_rows=15000 --checkpoint_min_gap_s=0"}, 5);
  ASSERT_GT(ssp.leads.starts, 100u);
  EXPECT_LE(ssp.leads.max_lead, 1u);
  EXPECT_NE(ssp.output.find("checkpoint 2 "), std::string::npos) << ssp.output;
}

}  // namespace
}  // namespace embedps
