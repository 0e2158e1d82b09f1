#include "launch/bench/pushpull_bench.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <random>
#include <thread>
#include <unordered_set>

#include <glog/logging.h>
#include <nlohmann/json.hpp>

#include "common/hash.h"
#include "common/mutex.h"
#include "common/scheduler_link.h"
#include "datagen/zipf.h"
#include "launch/bench/in_process_cluster.h"
#include "launch/bench/raw_tcp_reference.h"
#include "worker/ps_client.h"

namespace embedps::launch {
namespace {

using std::chrono::duration;
using Clock = std::chrono::steady_clock;

enum Phase { kPull = 0, kPush = 1, kPushPull = 2, kPhases = 3 };
const char* const kPhaseNames[kPhases] = {"pull", "push", "pushpull"};

// Lets the workers and the coordinating thread cross phase boundaries
// together, so every phase runs with all workers busy.
class PhaseSync {
 public:
  explicit PhaseSync(int parties) : parties_(parties) {}
  void Arrive() {
    MutexLock lock(&mu_);
    const uint64_t gen = generation_;
    if (++waiting_ == parties_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    // A loop rather than a predicate: the analysis does not see that a
    // lambda runs under mu_.
    while (generation_ == gen) cv_.wait(mu_);
  }

 private:
  Mutex mu_;
  std::condition_variable_any cv_;  // waits on mu_ itself
  int parties_;
  int waiting_ GUARDED_BY(mu_) = 0;
  uint64_t generation_ GUARDED_BY(mu_) = 0;
};

struct PhaseSample {
  uint64_t keys = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

// Batches of `keys` unique keys drawn Zipf(s) over [1, key_space]; ranks
// are mixed into 64-bit keys so they spread over shards like real ids.
std::vector<std::vector<uint64_t>> MakeBatches(uint32_t keys, int count, uint64_t seed,
                                               uint64_t key_space, double s) {
  datagen::ZipfSampler zipf(key_space, s);
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint64_t>> batches(count);
  for (auto& batch : batches) {
    std::unordered_set<uint64_t> seen;
    seen.reserve(keys * 2);
    while (seen.size() < keys) seen.insert(Mix64(zipf(rng)));
    batch.assign(seen.begin(), seen.end());
  }
  return batches;
}

class BenchWorker {
 public:
  BenchWorker(const PushPullBenchOptions& o, const std::string& endpoint, const std::string& token,
              int index, security::CurveConfig curve)
      : o_(o), index_(index), curve_(std::move(curve)) {
    SchedulerLinkOptions lo;
    lo.scheduler_endpoint = endpoint;
    lo.cluster_id = ClusterIdFromToken(token);
    lo.role = wire::Role::kWorker;
    lo.curve = curve_;
    link_ = std::make_unique<SchedulerLink>(ctx_, lo);
  }

  Status Join() {
    RETURN_IF_ERROR(link_->Join());
    worker::PsClientOptions co;
    co.cluster_id = link_->header().cluster_id;
    co.node_id = link_->node_id();
    co.max_inflight_pushes = o_.depth * o_.servers;
    co.curve = curve_;
    client_ = std::make_unique<worker::PsClient>(ctx_, co);
    return client_->Connect(link_->shard_map());
  }

  // Prepares batches for (keys, table) and pushes every key once.
  Status Warm(uint32_t keys, uint32_t table, uint32_t dim) {
    batches_ = MakeBatches(keys, 4, 1000 * index_ + keys + dim, o_.key_space, o_.zipf_s);
    grads_.assign(size_t{keys} * dim, 0.001f);
    table_ = table;
    dim_ = dim;
    for (const auto& b : batches_) RETURN_IF_ERROR(client_->Push(table, dim, b, grads_));
    return client_->Flush();
  }

  StatusOr<PhaseSample> RunPhase(Phase phase) {
    PhaseSample sample;
    const auto start = Clock::now();
    const auto end = start + duration<double>(o_.seconds);
    size_t next = 0;
    if (phase == kPush) {
      while (Clock::now() < end) {
        RETURN_IF_ERROR(client_->Push(table_, dim_, batches_[next++ % batches_.size()], grads_));
        sample.keys += batches_[0].size();
        RETURN_IF_ERROR(Upkeep(next));
      }
      RETURN_IF_ERROR(client_->Flush());
    } else {
      // A ring of `depth` requests in flight, each with its own output buffer.
      std::vector<std::vector<float>> outputs(o_.depth);
      std::deque<std::pair<uint64_t, Clock::time_point>> inflight;
      while (true) {
        const bool more = Clock::now() < end;
        if (!more && inflight.empty()) break;
        if (more && inflight.size() < o_.depth) {
          const auto& keys = batches_[next % batches_.size()];
          auto* out = &outputs[next % o_.depth];
          ++next;
          auto ticket = phase == kPull ? client_->StartPull(table_, dim_, keys, out)
                                       : client_->StartPushPull(table_, dim_, keys, grads_, out);
          if (!ticket.ok()) return ticket.status();
          inflight.emplace_back(*ticket, Clock::now());
          continue;
        }
        RETURN_IF_ERROR(client_->Wait(inflight.front().first));
        sample.latencies_ms.push_back(duration<double, std::milli>(Clock::now() - inflight.front().second).count());
        inflight.pop_front();
        sample.keys += batches_[0].size();
        RETURN_IF_ERROR(Upkeep(next));
      }
    }
    sample.seconds = duration<double>(Clock::now() - start).count();
    return sample;
  }

  // Reports done and waits for the scheduler to end the job.
  Status Finish() {
    RETURN_IF_ERROR(link_->Send(wire::WorkerDoneMsg{}).status());
    for (int i = 0; i < 300; ++i) {
      RETURN_IF_ERROR(link_->Tick({}));
      while (auto ev = link_->NextEvent()) {
        if (std::holds_alternative<wire::ShutdownMsg>(ev->body)) return Status::OK();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return DeadlineExceeded("scheduler did not end the benchmark job");
  }

 private:
  Status Upkeep(size_t ops) { return ops % 16 == 0 ? link_->Tick({}) : Status::OK(); }

  const PushPullBenchOptions& o_;
  int index_;
  security::CurveConfig curve_;
  zmq::context_t ctx_{1};
  std::unique_ptr<SchedulerLink> link_;
  std::unique_ptr<worker::PsClient> client_;
  std::vector<std::vector<uint64_t>> batches_;
  std::vector<float> grads_;
  uint32_t table_ = 0, dim_ = 0;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

struct RunFigures {
  double keys_per_sec[kPhases] = {0, 0, 0};
  double p50_ms[kPhases] = {0, 0, 0};
  double p99_ms[kPhases] = {0, 0, 0};
  double server_ns_per_key[kPhases] = {0, 0, 0};
};

// One whole benchmark run on a fresh cluster, with CURVE on or off; calls
// `report` with each configuration's figures as soon as they are known.
Status RunOnce(const PushPullBenchOptions& o, bool curve, uint32_t replicas,
               const std::function<void(const nlohmann::json&)>& report) {
  std::vector<ps::TableConfig> tables;
  for (uint32_t i = 0; i < o.dims.size(); ++i) {
    ps::TableConfig t;
    t.id = i;
    t.name = "bench_d" + std::to_string(o.dims[i]);
    t.dim = o.dims[i];
    t.init = ps::Initializer::kNormal;
    t.init_scale = 0.01f;
    t.optimizer.name = o.optimizer;
    RETURN_IF_ERROR(ps::ValidateOptimizerConfig(t.optimizer).WithContext("--optimizer"));
    tables.push_back(t);
  }
  const std::string token = "bench-" + std::to_string(Clock::now().time_since_epoch().count());
  InProcessCluster cluster;
  RETURN_IF_ERROR(cluster.Start(o.servers, o.workers, tables, o.server_threads, token,
                                o.null_store, curve, replicas));

  PhaseSync sync(static_cast<int>(o.workers) + 1);
  std::vector<std::unique_ptr<BenchWorker>> workers;
  for (uint32_t w = 0; w < o.workers; ++w) {
    workers.push_back(std::make_unique<BenchWorker>(o, cluster.scheduler_endpoint(), token, w,
                                                    cluster.WorkerCurve(w)));
  }
  std::vector<std::vector<PhaseSample>> samples(o.workers);  // [worker][config*repeat*phase]
  std::vector<Status> results(o.workers);
  std::vector<std::thread> threads;
  for (uint32_t w = 0; w < o.workers; ++w) {
    threads.emplace_back([&, w] {
      BenchWorker& me = *workers[w];
      Status st = me.Join();
      sync.Arrive();
      for (uint32_t k : o.keys) {
        for (uint32_t t = 0; t < o.dims.size(); ++t) {
          if (st.ok()) st = me.Warm(k, t, o.dims[t]);
          for (uint32_t r = 0; r < o.repeat; ++r) {
            for (int p = 0; p < kPhases; ++p) {
              sync.Arrive();
              PhaseSample s;
              if (st.ok()) {
                auto got = me.RunPhase(static_cast<Phase>(p));
                if (got.ok()) s = std::move(got).value();
                else st = got.status();
              }
              samples[w].push_back(std::move(s));
              sync.Arrive();
            }
          }
        }
      }
      Status fin = me.Finish();
      results[w] = st.ok() ? fin : st;
    });
  }

  sync.Arrive();  // all joined
  size_t slot = 0;
  for (uint32_t k : o.keys) {
    for (uint32_t t = 0; t < o.dims.size(); ++t) {
      std::vector<RunFigures> runs(o.repeat);
      for (uint32_t r = 0; r < o.repeat; ++r) {
        for (int p = 0; p < kPhases; ++p, ++slot) {
          const char* keys_counter = p == kPull ? "server.keys_pulled" : "server.keys_pushed";
          const uint64_t nanos0 = cluster.ServerCounter("server.handler_nanos");
          const uint64_t keys0 = cluster.ServerCounter(keys_counter);
          sync.Arrive();  // phase starts
          sync.Arrive();  // phase ends
          const uint64_t keys1 = cluster.ServerCounter(keys_counter);
          const uint64_t nanos1 = cluster.ServerCounter("server.handler_nanos");
          std::vector<double> lat;
          double rate = 0;
          for (uint32_t w = 0; w < o.workers; ++w) {
            const PhaseSample& s = samples[w][slot];
            if (s.seconds > 0) rate += s.keys / s.seconds;
            lat.insert(lat.end(), s.latencies_ms.begin(), s.latencies_ms.end());
          }
          runs[r].keys_per_sec[p] = rate;
          runs[r].p50_ms[p] = Percentile(lat, 0.5);
          runs[r].p99_ms[p] = Percentile(lat, 0.99);
          runs[r].server_ns_per_key[p] = keys1 > keys0 ? double(nanos1 - nanos0) / (keys1 - keys0) : 0;
        }
      }
      nlohmann::json j = {{"bench", "pushpull"}, {"servers", o.servers}, {"workers", o.workers},
                          {"keys", k}, {"dim", o.dims[t]}, {"depth", o.depth}, {"optimizer", o.optimizer},
                          {"server_threads", o.server_threads}, {"seconds", o.seconds},
                          {"repeat", o.repeat}, {"null_store", o.null_store}, {"curve", curve},
                          {"replicas", replicas}};
      for (int p = 0; p < kPhases; ++p) {
        std::vector<double> rate, p50, p99, ns;
        for (const auto& run : runs) {
          rate.push_back(run.keys_per_sec[p]);
          p50.push_back(run.p50_ms[p]);
          p99.push_back(run.p99_ms[p]);
          ns.push_back(run.server_ns_per_key[p]);
        }
        const std::string name = kPhaseNames[p];
        j[name + "_keys_per_sec"] = Median(rate);
        if (p != kPush) {
          j[name + "_p50_ms"] = Median(p50);
          j[name + "_p99_ms"] = Median(p99);
        }
        j["server_ns_per_key_" + name] = Median(ns);
      }
      // Gradients out and rows back: two value arrays per round trip.
      j["pushpull_value_mb_per_sec"] =
          j["pushpull_keys_per_sec"].get<double>() * o.dims[t] * 4.0 * 2 / 1e6;
      report(j);
    }
  }
  for (auto& th : threads) th.join();
  Status cluster_status = cluster.Join();
  for (const Status& st : results) RETURN_IF_ERROR(st);
  return cluster_status;
}

// Adds the raw TCP ceiling of this configuration's push+pull round trips
// (the median of `repeat` runs) and the benchmark's ratio to it.
Status AddRawTcpReference(const PushPullBenchOptions& o, nlohmann::json& j) {
  const uint64_t keys = j["keys"].get<uint32_t>();
  const uint64_t values = keys * j["dim"].get<uint32_t>() * sizeof(float);
  std::vector<double> rates;
  for (uint32_t r = 0; r < o.repeat; ++r) {
    ASSIGN_OR_RETURN(RawTcpFigures f,
                     MeasureRawTcpRoundTrips(keys * sizeof(uint64_t) + values, values, o.depth, o.seconds));
    rates.push_back(f.round_trips_per_sec);
  }
  const double round_trips = Median(rates);
  j["raw_tcp_pushpull_keys_per_sec"] = round_trips * keys;
  j["raw_tcp_value_mb_per_sec"] = round_trips * values * 2 / 1e6;
  j["pushpull_to_raw_tcp"] = round_trips > 0 ? j["pushpull_keys_per_sec"].get<double>() / (round_trips * keys) : 0.0;
  return Status::OK();
}

void PrintFigures(const nlohmann::json& j, bool json) {
  if (json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("keys %6u dim %4u%s | pull %6.2f M keys/s | push %6.2f M keys/s | push+pull %6.2f M "
                "keys/s, %7.1f MB/s of values, p50 %.2f ms, p99 %.2f ms | server %.1f ns/key\n",
                j["keys"].get<uint32_t>(), j["dim"].get<uint32_t>(),
                j["curve"].get<bool>() ? " curve" : j["replicas"].get<uint32_t>() > 1 ? " 2 copies" : "",
                j["pull_keys_per_sec"].get<double>() / 1e6,
                j["push_keys_per_sec"].get<double>() / 1e6,
                j["pushpull_keys_per_sec"].get<double>() / 1e6,
                j["pushpull_value_mb_per_sec"].get<double>(), j["pushpull_p50_ms"].get<double>(),
                j["pushpull_p99_ms"].get<double>(), j["server_ns_per_key_pushpull"].get<double>());
    if (j.contains("raw_tcp_value_mb_per_sec")) {
      std::printf("keys %6u dim %4u | raw loopback TCP, same round trips: %7.1f MB/s of values; "
                  "push+pull is %.2f of it\n",
                  j["keys"].get<uint32_t>(), j["dim"].get<uint32_t>(), j["raw_tcp_value_mb_per_sec"].get<double>(),
                  j["pushpull_to_raw_tcp"].get<double>());
    }
  }
  std::fflush(stdout);
}

// One configuration without and with a feature (CURVE, a second copy):
// throughputs and on/off ratios.
void PrintComparison(const nlohmann::json& off, const nlohmann::json& on, const std::string& feature, bool json) {
  nlohmann::json j = {{"bench", "pushpull_" + feature}, {"keys", off["keys"]}, {"dim", off["dim"]},
                      {"servers", off["servers"]}, {"workers", off["workers"]}, {"optimizer", off["optimizer"]},
                      {"depth", off["depth"]}, {"seconds", off["seconds"]},
                      {"repeat", off["repeat"]}};
  for (const char* phase : kPhaseNames) {
    const std::string key = std::string(phase) + "_keys_per_sec";
    const double a = off[key].get<double>(), b = on[key].get<double>();
    j[std::string(phase) + "_off_keys_per_sec"] = a;
    j[std::string(phase) + "_on_keys_per_sec"] = b;
    j[std::string(phase) + "_ratio"] = a > 0 ? b / a : 0.0;
  }
  j["pushpull_p50_ms_off"] = off["pushpull_p50_ms"];
  j["pushpull_p50_ms_on"] = on["pushpull_p50_ms"];
  if (json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("keys %6u dim %4u | %s off/on (M keys/s, ratio on/off): pull %.2f/%.2f (%.2f) | "
                "push %.2f/%.2f (%.2f) | push+pull %.2f/%.2f (%.2f), p50 %.2f/%.2f ms\n",
                j["keys"].get<uint32_t>(), j["dim"].get<uint32_t>(), feature.c_str(),
                j["pull_off_keys_per_sec"].get<double>() / 1e6,
                j["pull_on_keys_per_sec"].get<double>() / 1e6, j["pull_ratio"].get<double>(),
                j["push_off_keys_per_sec"].get<double>() / 1e6,
                j["push_on_keys_per_sec"].get<double>() / 1e6, j["push_ratio"].get<double>(),
                j["pushpull_off_keys_per_sec"].get<double>() / 1e6,
                j["pushpull_on_keys_per_sec"].get<double>() / 1e6, j["pushpull_ratio"].get<double>(),
                j["pushpull_p50_ms_off"].get<double>(), j["pushpull_p50_ms_on"].get<double>());
  }
  std::fflush(stdout);
}

}  // namespace

Status RunPushPullBench(const PushPullBenchOptions& o) {
  if (o.servers == 0 || o.workers == 0) return InvalidArgument("need at least one server and worker");
  if (o.depth == 0 || o.repeat == 0 || !(o.seconds > 0)) {
    return InvalidArgument("--depth, --repeat and --seconds must be positive");
  }
  for (uint32_t d : o.dims) {
    if (d == 0 || d > 1024) return InvalidArgument("dims must be in 1..1024");
  }
  for (uint32_t k : o.keys) {
    if (k == 0 || k > o.key_space / 4) return InvalidArgument("--keys must be in 1..key_space/4");
  }
  if (o.replicas != 1 && o.replicas != 2) return InvalidArgument("--replicas must be 1 or 2");
  if ((o.replicas > 1 || o.replicas_compare) && o.servers < 2) {
    return InvalidArgument("a second copy of the rows needs --servers >= 2");
  }
  if (o.curve_compare && o.replicas_compare) return InvalidArgument("compare CURVE or replicas, not both at once");
  if (o.raw_tcp_reference && (o.curve_compare || o.replicas_compare)) {
    return InvalidArgument("--raw_tcp_reference goes with a plain run, not a comparison");
  }
  if (!o.curve_compare && !o.replicas_compare) {
    if (!o.raw_tcp_reference) {
      return RunOnce(o, o.curve, o.replicas, [&](const nlohmann::json& j) { PrintFigures(j, o.json); });
    }
    // The references run once the cluster is gone: between configurations
    // its waiting workers would go silent for that long (and be presumed
    // dead), and their warm-up would share the cores with the reference.
    std::vector<nlohmann::json> figures;
    RETURN_IF_ERROR(RunOnce(o, o.curve, o.replicas, [&](const nlohmann::json& j) { figures.push_back(j); }));
    for (auto& j : figures) {
      RETURN_IF_ERROR(AddRawTcpReference(o, j));
      PrintFigures(j, o.json);
    }
    return Status::OK();
  }
  // The same configurations without, then with the feature.
  const std::string feature = o.curve_compare ? "curve" : "replicas";
  std::vector<nlohmann::json> off;
  RETURN_IF_ERROR(RunOnce(o, o.curve_compare ? false : o.curve, o.curve_compare ? o.replicas : 1,
                          [&](const nlohmann::json& j) { off.push_back(j); }));
  size_t next = 0;
  return RunOnce(o, o.curve_compare ? true : o.curve, o.curve_compare ? o.replicas : 2,
                 [&](const nlohmann::json& j) { PrintComparison(off[next++], j, feature, o.json); });
}

}  // namespace embedps::launch
