#include "sim/sim_job.h"

#include <cstdio>
#include <memory>
#include <set>

#include "common/metrics.h"
#include "scheduler/scheduler_core.h"
#include "sim/sim_server.h"
#include "sim/sim_worker.h"

namespace embedps::sim {
namespace {

using std::chrono::milliseconds;

Clock::duration Secs(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// The lines of each lease (partition id) that `ranges` (a manifest's or the
// job's "trained" JSON) records as trained.
std::set<uint64_t> TrainedLines(const nlohmann::json& ranges) {
  std::set<uint64_t> lines;
  for (const auto& [id, list] : ranges.items()) {
    const uint32_t lease = static_cast<uint32_t>(std::stoul(id));
    for (const auto& r : list) {
      for (uint64_t l = r.at(0).get<uint64_t>(); l < r.at(1).get<uint64_t>(); ++l) lines.insert(LineKey(lease, l));
    }
  }
  return lines;
}

class Job {
 public:
  Job(uint64_t seed, const SimOptions& options) : env_(seed, Shape(seed)), options_(options) {}

  SeedResult Run();

 private:
  static JobShape Shape(uint64_t seed);
  scheduler::SchedulerOptions SchedulerSettings();
  void PlanFaults();
  void PlanNetworkFaults();
  void NetworkFault(int kind, double length, double extra_ms);
  // Starts a simulated process and its launcher's restart policy.
  template <typename Node>
  void StartNode(bool server, int restarts, std::vector<std::unique_ptr<Node>>* nodes);
  void StartServer(int restarts);
  void StartWorker(int restarts);
  void Restart(bool server);
  void SchedulerReceive(const Packet& p);
  void SchedulerTick(uint64_t generation);
  // SIGKILL of the scheduler: it is down (messages to its endpoint wait, as
  // in a DEALER's queue) until the launcher restarts it with --resume.
  void KillScheduler();
  void OnSchedulerEvent(const std::string& kind, const std::string& text);
  void RestartScheduler();
  // A node exited with an error: `embedps local` fails the job.
  void OnFatalExit(const std::string& address, const std::string& why);
  void Flush();
  void EndJob(Status result);
  void CheckLeases();
  // Bounded staleness: the scheduler's minimum is at most the clock of
  // every worker it counts (after every step), and a counted worker starts
  // a batch only while no counted worker is more than k behind it.
  void CheckClocks();
  void CheckLead(uint32_t node, uint32_t lease, uint64_t clock);
  void CheckManifest(const scheduler::Manifest& m);
  void NoteLostLines(uint32_t rank, const LineCounts& rows);
  void CheckEnd();
  // --replicas=2: no acknowledged push lost, none applied twice.
  void CheckExactSums(const LineCounts& model);
  std::string Pick(bool server);
  std::string PickNode();
  SimWorker* WorkerAt(const std::string& address);

  Env env_;
  SimOptions options_;
  std::unique_ptr<MetricsRegistry> metrics_ = std::make_unique<MetricsRegistry>();
  std::unique_ptr<scheduler::SchedulerCore> core_;
  scheduler::SchedulerOptions settings_;  // the job's, for a restart
  uint64_t scheduler_generation_ = 0;     // a killed scheduler's timers lapse
  bool scheduler_down_ = false;
  Clock::time_point scheduler_restarted_at_;  // the last time it came back
  std::vector<std::unique_ptr<SimServer>> servers_;
  std::vector<std::unique_ptr<SimWorker>> workers_;
  std::set<std::string> live_servers_, live_workers_;
  uint32_t next_server_ = 0, next_worker_ = 0;
  int restarts_ = 0;
  uint32_t standbys_ = 0;
  int faults_injected_ = 0;
  bool server_lost_ = false;  // a server died or stalled past the timeout
  // Nodes that may rightly register again: stalled, or their control
  // connection was reset (the scheduler then no longer knows them).
  std::set<std::string> may_rejoin_;
  // Per line: pushes acknowledged, and pushes abandoned unacknowledged.
  std::map<uint64_t, uint32_t> acked_, abandoned_;
  bool ended_ = false;
  bool fatal_after_rejoin_ = false;
  bool exact_checked_ = false;  // the job failed for a node that rightly registered again
  Status result_;
  std::string plan_;
};

JobShape Job::Shape(uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  JobShape s;
  s.servers = 2 + static_cast<uint32_t>(rng() % 3);
  s.workers = 2 + static_cast<uint32_t>(rng() % 3);
  s.partitions = 4 + static_cast<uint32_t>(rng() % 8);
  s.lines = 20 + rng() % 40;
  s.passes = 1 + static_cast<uint32_t>(rng() % 2);
  s.batch = 3 + static_cast<uint32_t>(rng() % 6);
  // Drawn last, from the shape's own generator: the seeds of asynchronous
  // jobs keep the jobs and faults they had before SSP was simulated.
  s.staleness = rng() % 10 < 4 ? static_cast<int32_t>(rng() % 4) : -1;
  // The same for network faults: in half the seeds, 1-3 resets or spikes,
  // and early resends of up to 20% of pushes.
  if (rng() % 2 == 0) {
    s.network_faults = 1 + static_cast<uint32_t>(rng() % 3);
    s.early_resend = static_cast<double>(rng() % 21) / 100.0;
  }
  // And --replicas=2 in a third of the seeds.
  s.replicas = rng() % 3 == 0 ? 2 : 1;
  return s;
}

scheduler::SchedulerOptions Job::SchedulerSettings() {
  World& w = env_.world;
  scheduler::SchedulerOptions o;
  o.cluster_id = env_.shape.cluster_id;
  o.num_servers = env_.shape.servers;
  o.num_workers = env_.shape.workers;
  o.num_virtual_shards = env_.shape.virtual_shards;
  o.passes = env_.shape.passes;
  for (uint32_t i = 0; i < env_.shape.partitions; ++i) {
    Partition p;
    p.id = i;
    p.file = "sim";
    p.begin = 0;
    p.end = env_.shape.lines;
    o.planned_partitions.push_back(p);
  }
  o.shuffle_seed = w.Chance(0.5) ? 1 + w.Below(1000) : 0;
  o.model_dir = "/sim/model";  // not a directory here: model.json is skipped
  o.print_progress = false;
  o.node_timeout = milliseconds(1000);
  o.join_timeout = milliseconds(30000);
  o.export_timeout = milliseconds(30000);
  o.recovery_timeout = milliseconds(20000);
  o.checkpoint_timeout = milliseconds(static_cast<int64_t>(w.Uniform(2000, 10000)));
  o.checkpoint_dir = env_.store.root();
  o.checkpoint_interval = milliseconds(static_cast<int64_t>(w.Uniform(200, 1500)));
  o.first_checkpoint_after = milliseconds(static_cast<int64_t>(w.Uniform(100, 600)));
  o.checkpoint_min_gap = milliseconds(static_cast<int64_t>(w.Uniform(0, 500)));
  o.checkpoint_each_pass = w.Chance(0.7);
  o.checkpoints_to_keep = 1 + static_cast<uint32_t>(w.Below(3));
  o.full_checkpoint_every = 1 + static_cast<uint32_t>(w.Below(4));
  o.status_interval = milliseconds(250);
  o.replicas = env_.shape.replicas;
  return o;
}

template <typename Node>
void Job::StartNode(bool server, int restarts, std::vector<std::unique_ptr<Node>>* nodes) {
  uint32_t& next = server ? next_server_ : next_worker_;
  const std::string address = (server ? "server-" : "worker-") + std::to_string(next++);
  auto node = std::make_unique<Node>(env_, address, [this, address, server](bool restart) {
    (server ? live_servers_ : live_workers_).erase(address);
    // Replaced (a server's exit 75) or refused: the launcher starts it again.
    if (restart && !ended_) Restart(server);
  });
  (server ? live_servers_ : live_workers_).insert(address);
  env_.Trace("start " + address + (restarts > 0 ? " (restart)" : ""));
  node->Start();
  nodes->push_back(std::move(node));
}

void Job::StartServer(int restarts) { StartNode(/*server=*/true, restarts, &servers_); }

void Job::StartWorker(int restarts) { StartNode(/*server=*/false, restarts, &workers_); }

void Job::Restart(bool server) {
  if (restarts_ >= 10) return;
  ++restarts_;
  env_.world.At(Secs(env_.world.Uniform(0.1, 0.8)), "", [this, server] {
    if (ended_) return;
    if (server) {
      StartServer(restarts_);
    } else {
      StartWorker(restarts_);
    }
  });
}

std::string Job::Pick(bool server) {
  const auto& live = server ? live_servers_ : live_workers_;
  if (live.empty()) return "";
  auto it = live.begin();
  std::advance(it, env_.world.Below(live.size()));
  return *it;
}

void Job::PlanFaults() {
  World& w = env_.world;
  // Sometimes a spare server from the start (--standby_servers 1).
  standbys_ = w.Chance(0.3) ? 1 : 0;
  const int n = 1 + static_cast<int>(w.Below(3));
  for (int i = 0; i < n; ++i) {
    const double at = w.Uniform(0.05, 2.5);
    const int kind = static_cast<int>(w.Below(6));
    const double stall = w.Uniform(0.3, 3.0);
    char line[96];
    static const char* kNames[] = {"kill worker", "stall worker", "kill server",
                                   "stall server", "disk full",   "kill scheduler"};
    std::snprintf(line, sizeof(line), "%s%s at %.2f s", plan_.empty() ? "" : "; ", kNames[kind], at);
    plan_ += line;
    if (kind == 1 || kind == 3 || kind == 4) {
      std::snprintf(line, sizeof(line), " for %.2f s", stall);
      plan_ += line;
    }
    w.At(Secs(at), "", [this, kind, stall] {
      if (ended_) return;
      World& world = env_.world;
      const bool server = kind == 2 || kind == 3;
      if (kind == 5) {
        if (scheduler_down_) return;
        ++faults_injected_;
        return KillScheduler();
      }
      if (kind == 4) {
        env_.disk_full = true;
        env_.Trace("disk full");
        world.At(Secs(stall), "", [this] {
          env_.disk_full = false;
          env_.Trace("disk has space again");
        });
        ++faults_injected_;
        return;
      }
      const std::string victim = Pick(server);
      if (victim.empty()) return;
      ++faults_injected_;
      if (kind == 0 || kind == 2) {
        env_.Trace("SIGKILL " + victim);
        world.Kill(victim);
        if (!server) WorkerAt(victim)->AbandonInFlight();
        (server ? live_servers_ : live_workers_).erase(victim);
        if (server) server_lost_ = true;
        Restart(server);
      } else {
        env_.Trace("SIGSTOP " + victim);
        may_rejoin_.insert(victim);
        world.Stall(victim, true);
        if (server && stall > 0.9) server_lost_ = true;
        world.At(Secs(stall), "", [this, victim] {
          env_.Trace("SIGCONT " + victim);
          env_.world.Stall(victim, false);
        });
      }
    });
  }
}

SimWorker* Job::WorkerAt(const std::string& address) {
  for (auto& w : workers_) {
    if (w->address() == address) return w.get();
  }
  return nullptr;
}

std::string Job::PickNode() {
  const bool server = env_.world.Chance(0.5);
  const std::string node = Pick(server);
  return node.empty() ? Pick(!server) : node;
}

void Job::PlanNetworkFaults() {
  World& w = env_.world;
  for (uint32_t i = 0; i < env_.shape.network_faults; ++i) {
    const double at = w.Uniform(0.05, 2.5);
    const int kind = static_cast<int>(w.Below(3));
    const double length = w.Uniform(0.05, 1.5);
    const double extra_ms = w.Uniform(5, 400);
    static const char* kNames[] = {"reset a control link", "reset a data link", "delay spike"};
    char line[96];
    std::snprintf(line, sizeof(line), "%s%s at %.2f s", plan_.empty() ? "" : "; ", kNames[kind], at);
    plan_ += line;
    if (kind == 2) {
      std::snprintf(line, sizeof(line), " for %.2f s (+%.0f ms)", length, extra_ms);
      plan_ += line;
    }
    w.At(Secs(at), "", [this, kind, length, extra_ms] { NetworkFault(kind, length, extra_ms); });
  }
  if (env_.shape.early_resend > 0) {
    char line[64];
    std::snprintf(line, sizeof(line), "%searly resends %.0f%%", plan_.empty() ? "" : "; ",
                  100 * env_.shape.early_resend);
    plan_ += line;
  }
}

void Job::NetworkFault(int kind, double length, double extra_ms) {
  if (ended_) return;
  // Each may make a node rejoin or look dead, and so cost one more
  // application of the lines pushed since its last report: it counts in the
  // at-least-once bound. Early resends do not (the server dedups them).
  if (kind == 0) {
    // No connection to a scheduler that is down: what nodes send waits in
    // their DEALER's queue.
    const std::string node = scheduler_down_ ? "" : PickNode();
    if (node.empty()) return;
    ++faults_injected_;
    may_rejoin_.insert(node);
    env_.Trace("connection reset: " + node + " <-> scheduler");
    return env_.world.Reset(node, "scheduler");
  }
  if (kind == 1) {
    const std::string worker = Pick(/*server=*/false), server = Pick(/*server=*/true);
    if (worker.empty() || server.empty()) return;
    ++faults_injected_;
    env_.Trace("connection reset: " + worker + " <-> " + server);
    return env_.world.Reset(worker, server);
  }
  const std::string node = env_.world.Chance(0.2) ? std::string("scheduler") : PickNode();
  if (node.empty()) return;
  ++faults_injected_;
  char line[96];
  std::snprintf(line, sizeof(line), "delay spike: +%.0f ms to and from %s for %.2f s", extra_ms, node.c_str(), length);
  env_.Trace(line);
  env_.world.Spike(node, Secs(length), extra_ms);
}

// The scheduler's ROUTER names a peer by its connection: a DEALER that
// reconnected after a reset is a new routing id (transport.cc sets none).
std::string RoutingId(const Packet& p) { return p.from + "#" + std::to_string(p.conn); }

void Job::SchedulerReceive(const Packet& p) {
  if (ended_ || scheduler_down_) return;
  // Sent to the killed scheduler (lost in flight) or while it was down
  // (waiting in the sender's DEALER queue): from a sender that died since,
  // it never comes.
  if (p.sent < scheduler_restarted_at_ && !env_.world.Alive(p.from)) return;
  scheduler::Inbound in;
  in.from = RoutingId(p);
  in.peer_address = "sim";
  in.message.header = p.header;
  in.message.body = p.body;
  const Status st = core_->OnMessage(in, env_.world.now());
  Flush();
  CheckLeases();
  CheckClocks();
  if (!st.ok()) return EndJob(st);
  if (core_->finished()) EndJob(Status::OK());
}

void Job::SchedulerTick(uint64_t generation) {
  if (ended_ || generation != scheduler_generation_) return;
  const Status st = core_->OnTick(env_.world.now());
  Flush();
  CheckLeases();
  CheckClocks();
  if (!st.ok()) return EndJob(st);
  if (core_->finished()) return EndJob(Status::OK());
  env_.world.At(milliseconds(50), "scheduler", [this, generation] { SchedulerTick(generation); });
}

void Job::OnSchedulerEvent(const std::string& kind, const std::string& text) {
  env_.Trace("scheduler " + kind + ": " + text);
  // A server presumed dead (killed, or stalled past the timeout) may fail
  // the job rightly when no checkpoint can restore its rows.
  if (kind == "death" && text.rfind("server", 0) == 0) server_lost_ = true;
}

void Job::KillScheduler() {
  env_.Trace("SIGKILL scheduler");
  ++scheduler_generation_;
  scheduler_down_ = true;
  env_.world.Stall("scheduler", true);
  // `embedps local` restarts it on its endpoint with --resume when there is
  // a checkpoint, and fails the job when there is none.
  env_.world.At(Secs(env_.world.Uniform(0.2, 1.0)), "", [this] { RestartScheduler(); });
}

void Job::RestartScheduler() {
  if (ended_) return;
  if (env_.store.List().empty()) {
    ended_ = true;
    result_ = Unavailable("the scheduler died before the job's first checkpoint");
    env_.Trace("job ended: " + result_.message());
    return;
  }
  scheduler::SchedulerOptions o = settings_;
  o.resume = true;
  // A restarted process: new metrics, the same checkpoint store.
  metrics_ = std::make_unique<MetricsRegistry>();
  core_ = std::make_unique<scheduler::SchedulerCore>(o, metrics_.get(), nullptr, &env_.store);
  core_->SetEventSink([this](const std::string& kind, const std::string& text) { OnSchedulerEvent(kind, text); });
  const Status st = core_->Start(env_.world.now());
  env_.Trace("scheduler restarted with --resume");
  scheduler_down_ = false;
  scheduler_restarted_at_ = env_.world.now();
  env_.world.Stall("scheduler", false);
  if (!st.ok()) return EndJob(st);
  const uint64_t generation = scheduler_generation_;
  env_.world.At(milliseconds(50), "scheduler", [this, generation] { SchedulerTick(generation); });
}

void Job::OnFatalExit(const std::string& address, const std::string& why) {
  (address.rfind("server", 0) == 0 ? live_servers_ : live_workers_).erase(address);
  if (ended_) return;
  ended_ = true;
  result_ = Aborted(address + " exited with an error (" + why + "); the launcher fails the job");
  fatal_after_rejoin_ = may_rejoin_.count(address) > 0;
  env_.Trace("job ended: " + result_.message());
}

void Job::Flush() {
  for (scheduler::Outgoing& out : core_->TakeOutbox()) {
    Packet p;
    p.from = "scheduler";
    const size_t hash = out.to.rfind('#');
    p.to = out.to.substr(0, hash);
    p.conn = std::stoull(out.to.substr(hash + 1));
    p.header = out.header;
    p.body = std::move(out.body);
    env_.world.Send(std::move(p));
  }
}

void Job::EndJob(Status result) {
  if (ended_) return;
  result_ = core_->Finish(result, env_.world.now());
  Flush();
  ended_ = true;
  env_.Trace("job ended: " + (result_.ok() ? std::string("finished") : result_.message()));
}

void Job::CheckLeases() {
  // A node presumed dead never keeps a lease.
  const scheduler::PartitionQueue* q = core_->partitions();
  if (q == nullptr) return;
  for (const auto& [id, lease] : q->leases()) {
    if (core_->NodePresumedDead(lease.worker)) {
      env_.Violation("worker node " + std::to_string(lease.worker) + " is presumed dead but holds lease " +
                     std::to_string(id));
    }
  }
}

// Workers the scheduler counts towards the minimum clock: live, unfinished,
// holding a lease (ClockTracker). The lease queue says who holds one.
std::vector<uint32_t> CountedWorkers(const scheduler::SchedulerCore& core) {
  std::vector<uint32_t> ids;
  if (core.partitions() == nullptr) return ids;
  for (const auto& [id, lease] : core.partitions()->leases()) {
    if (core.clocks().Counts(lease.worker) && !core.NodePresumedDead(lease.worker)) ids.push_back(lease.worker);
  }
  return ids;
}

void Job::CheckClocks() {
  if (env_.shape.staleness < 0) return;
  const auto min = core_->clocks().Min();
  if (!min) return;
  for (uint32_t id : CountedWorkers(*core_)) {
    if (core_->clocks().ClockOf(id) < *min) {
      env_.Violation("worker node " + std::to_string(id) + " counts at clock " +
                     std::to_string(core_->clocks().ClockOf(id)) + ", below the published minimum " +
                     std::to_string(*min));
    }
  }
}

void Job::CheckLead(uint32_t node, uint32_t lease, uint64_t clock) {
  // The guarantee of docs/architecture.md ("Consistency"), measured as
  // tests/integration/consistency_test.cc does: at a batch start, the
  // other counted workers' clocks (acknowledged batches, or the jump the
  // scheduler gave them) are >= clock - k. It binds a worker only while
  // the scheduler that runs now counts it; the counted workers' clocks as
  // the scheduler knows them are at most their true ones.
  if (env_.shape.staleness < 0 || scheduler_down_ || ended_ || core_->partitions() == nullptr) return;
  const auto& leases = core_->partitions()->leases();
  auto held = leases.find(lease);
  if (held == leases.end() || held->second.worker != node || !core_->clocks().Counts(node) ||
      core_->NodePresumedDead(node)) {
    return;
  }
  const uint64_t k = static_cast<uint64_t>(env_.shape.staleness);
  for (uint32_t other : CountedWorkers(*core_)) {
    const uint64_t theirs = core_->clocks().ClockOf(other);
    if (other != node && theirs + k < clock) {
      env_.Violation("worker node " + std::to_string(node) + " starts a batch at clock " + std::to_string(clock) +
                     ", more than " + std::to_string(k) + " ahead of worker node " + std::to_string(other) +
                     " at " + std::to_string(theirs));
    }
  }
}

void Job::NoteLostLines(uint32_t rank, const LineCounts& rows) {
  // What the scheduler records as trained of this rank's leases, but the
  // restored rows lack: the failover lost those updates.
  auto owners = ShardMap::Balanced(env_.shape.servers, env_.shape.virtual_shards, 1);
  for (uint64_t line : TrainedLines(core_->partitions()->ToJson().at("trained"))) {
    if (owners->ServerOf(line >> 32) == rank && rows.count(line) == 0) env_.lost_lines.insert(line);
  }
}

void Job::CheckManifest(const scheduler::Manifest& m) {
  // A checkpoint called complete holds every line its manifest records as
  // trained (the pause makes it exactly those pushes).
  std::set<uint64_t> held;
  for (uint32_t r = 0; r < m.num_servers; ++r) {
    const SimFile* f = env_.store.File(scheduler::CheckpointDir(env_.store.root(), m.id) + "/" +
                                       scheduler::ServerFileName(r));
    if (f == nullptr) {
      env_.Violation("checkpoint " + std::to_string(m.id) + " is recorded without server " + std::to_string(r) +
                     "'s file");
      continue;
    }
    for (const auto& [key, count] : f->rows) held.insert(key);
  }
  size_t missing = 0;
  for (uint64_t line : TrainedLines(m.partitions.at("trained"))) {
    missing += held.count(line) == 0 && env_.lost_lines.count(line) == 0;
  }
  if (missing > 0) {
    env_.Violation("checkpoint " + std::to_string(m.id) + " lacks " + std::to_string(missing) +
                   " lines its manifest records as trained (and no failover reported lost)");
  }
}

void Job::CheckEnd() {
  if (!ended_) {
    env_.Violation("the job did not end within the time limit (deadlock or livelock)");
    return;
  }
  if (!result_.ok()) {
    // Failing is right only where nothing could keep the rows, and (known
    // limits, docs/simulation.md) when a server dies during the export or
    // while a resumed job restores: the checkpoint holds the model, and
    // --resume carries on.
    const std::string& why = result_.message();
    const bool allowed =
        ((server_lost_ || env_.left_with_rows > 0) && (why.find("before the job's first checkpoint") != std::string::npos ||
                          why.find("did not finish exporting") != std::string::npos ||
                          why.find("died while restoring") != std::string::npos)) ||
        why == "the scheduler died before the job's first checkpoint" ||
        // Known limit (docs/simulation.md): a node that registers again
        // and is refused (the job is exporting) or handed another rank
        // than the rows it holds exits with an error.
        (fatal_after_rejoin_ && why.find("the launcher fails the job") != std::string::npos);
    if (!allowed) env_.Violation("the job failed: " + why);
    return;
  }
  const nlohmann::json stats = core_->StatsJson();
  const uint64_t expected = uint64_t{env_.shape.partitions} * env_.shape.lines * env_.shape.passes;
  if (stats.value("rows", uint64_t{0}) != expected) {
    env_.Violation("stats say " + std::to_string(stats.value("rows", uint64_t{0})) + " rows trained, the data has " +
                   std::to_string(expected) + " (lines x passes)");
  }
  // Every line of every pass is in the exported model at least once, and
  // at most once more than the faults explain; a line missing is allowed
  // only when a failover reported lost rows.
  LineCounts model;
  for (const auto& [rank, rows] : env_.exported) {
    for (const auto& [key, count] : rows) model[key] += count;
  }
  uint64_t missing = 0, missing_lost = 0, too_often = 0;
  const uint32_t bound = 1 + static_cast<uint32_t>(faults_injected_ + restarts_);
  for (uint32_t pass = 0; pass < env_.shape.passes; ++pass) {
    for (uint32_t p = 0; p < env_.shape.partitions; ++p) {
      const uint32_t lease = pass * env_.shape.partitions + p;
      for (uint64_t line = 0; line < env_.shape.lines; ++line) {
        auto it = model.find(LineKey(lease, line));
        const uint32_t count = it == model.end() ? 0 : it->second;
        const bool lost = env_.lost_lines.count(LineKey(lease, line)) > 0;
        missing += count == 0 && !lost;
        missing_lost += count == 0 && lost;
        too_often += count > bound;
      }
    }
  }
  if (missing > 0) {
    env_.Violation("the job finished OK but its model lacks " + std::to_string(missing) +
                   " trained lines that no failover reported lost");
  }
  if (missing_lost > 0 && stats.value("lost_rows", uint64_t{0}) == 0) {
    env_.Violation("the model lacks " + std::to_string(missing_lost) +
                   " trained lines that failovers lost, but the job reports lost_rows 0");
  }
  if (too_often > 0) {
    env_.Violation(std::to_string(too_often) + " lines were applied more than " + std::to_string(bound) +
                   " times (the at-least-once bound for these faults)");
  }
  CheckExactSums(model);
}

void Job::CheckExactSums(const LineCounts& model) {
  // As tests/fault/replication_test.cc: with --replicas=2 and one server
  // lost at a time, every row is exactly the sum of the pushes that were
  // acknowledged. Here a line's count in the model equals the number of
  // its pushes acknowledged, give or take the pushes a worker abandoned
  // unacknowledged (killed, or registering again): each of those may or
  // may not have been applied. It holds while no server restored from a
  // checkpoint (two neighbours lost together, a failed handoff, a resume),
  // which rolls rows back by design.
  if (env_.shape.replicas < 2 || env_.restored_from_checkpoint) return;
  exact_checked_ = true;
  // A stalled worker's push may have been applied, its answer never read.
  for (auto& w : workers_) w->AbandonInFlight();
  uint64_t lost = 0, doubled = 0;
  for (const auto& [line, acked] : acked_) {
    auto it = model.find(line);
    const uint32_t count = it == model.end() ? 0 : it->second;
    auto a = abandoned_.find(line);
    const uint32_t maybe = a == abandoned_.end() ? 0 : a->second;
    lost += count < acked;
    doubled += count > acked + maybe;
  }
  if (lost > 0) {
    env_.Violation("--replicas=2: " + std::to_string(lost) + " lines hold fewer updates than pushes of them were "
                   "acknowledged (an acknowledged push was lost)");
  }
  if (doubled > 0) {
    env_.Violation("--replicas=2: " + std::to_string(doubled) + " lines hold more updates than their "
                   "acknowledged and abandoned pushes (a push applied twice)");
  }
}

SeedResult Job::Run() {
  settings_ = SchedulerSettings();
  core_ = std::make_unique<scheduler::SchedulerCore>(settings_, metrics_.get(), nullptr, &env_.store);
  env_.store.on_manifest = [this](const scheduler::Manifest& m) { CheckManifest(m); };
  env_.on_restore = [this](uint32_t rank, const LineCounts& rows) { NoteLostLines(rank, rows); };
  env_.on_batch_start = [this](uint32_t node, uint32_t lease, uint64_t clock) { CheckLead(node, lease, clock); };
  env_.on_fatal = [this](const std::string& address, const std::string& why) { OnFatalExit(address, why); };
  env_.on_push_outcome = [this](uint32_t lease, uint64_t first, uint64_t end, bool acked) {
    for (uint64_t line = first; line < end; ++line) ++(acked ? acked_ : abandoned_)[LineKey(lease, line)];
  };
  if (env_.shape.replicas > 1) env_.Trace("--replicas=2");
  if (env_.shape.staleness >= 0) env_.Trace("workers run with --max_staleness=" + std::to_string(env_.shape.staleness));
  core_->SetEventSink([this](const std::string& kind, const std::string& text) { OnSchedulerEvent(kind, text); });
  SeedResult r;
  const Status start = core_->Start(env_.world.now());
  if (!start.ok()) {
    r.violations.push_back("the scheduler did not start: " + start.message());
    return r;
  }
  env_.world.Attach("scheduler", [this](const Packet& p) { SchedulerReceive(p); });
  if (options_.faults) {
    PlanFaults();
    PlanNetworkFaults();
  }
  env_.world.At(milliseconds(50), "scheduler", [this] { SchedulerTick(0); });
  for (uint32_t s = 0; s < env_.shape.servers + standbys_; ++s) StartServer(0);
  for (uint32_t w = 0; w < env_.shape.workers; ++w) StartWorker(0);
  env_.world.RunUntil([this] { return ended_; }, std::chrono::seconds(300));
  CheckEnd();
  r.job_ok = ended_ && result_.ok();
  r.outcome = !ended_ ? "did not end" : result_.ok() ? "finished" : result_.message();
  r.faults = plan_.empty() ? "none" : plan_;
  r.violations = env_.violations;
  r.trace = env_.trace;
  r.events = env_.world.events();
  r.sim_seconds = env_.world.Seconds();
  r.exact_sums_checked = exact_checked_;
  return r;
}

}  // namespace

SeedResult RunSeed(uint64_t seed, const SimOptions& options) {
  Job job(seed, options);
  SeedResult r = job.Run();
  r.seed = seed;
  return r;
}

}  // namespace embedps::sim
