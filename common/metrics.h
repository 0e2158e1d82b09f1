// A registry of named metrics: monotonic counters, gauges and fixed-bucket
// histograms, each optionally split by labels (table="user"). Metrics are
// created on first use and live as long as the registry; updating one is a
// relaxed atomic operation, so hot paths may hold a Counter*, Gauge* or
// Histogram* and update it freely from any thread.
//
// Names are dotted ("server.pull_requests"); the Prometheus writer
// (common/prometheus.h) turns them into embedps_server_pull_requests_total.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"

namespace embedps {

// Label pairs of one series, e.g. {{"table", "user"}}. Order is kept as given.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }
  // Raises the counter to `total`, a count kept elsewhere (a table's
  // evictions) and copied at collection time; never lowers it. Only one
  // thread may call it for a given counter.
  void AdvanceTo(uint64_t total) {
    const uint64_t now = Get();
    if (total > now) Add(total - now);
  }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (rows held, current loss).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into fixed buckets (upper bounds, ascending; an
// implicit +Inf bucket follows), plus their count and sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Get() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 50 us to 10 s.
const std::vector<double>& LatencyBuckets();

// The labels every series of a node carries: job_id, role and, once known
// (rank >= 0), rank.
Labels NodeLabels(const std::string& job_id, const std::string& role, int64_t rank);

enum class MetricType { kCounter, kGauge, kHistogram };

// A copy of one metric family (all series of one name) at collection time.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  struct Series {
    Labels labels;
    double value = 0;              // counters and gauges
    Histogram::Snapshot histogram;  // histograms
  };
  std::vector<Series> series;
};

class MetricsRegistry {
 public:
  // Return the metric `name` with `labels`, creating it (at zero) on first
  // use. Thread-safe; the pointer stays valid for the registry's lifetime.
  // Asking for an existing name as another type is a programmer error
  // (CHECK). A histogram's bounds are fixed by its first creation.
  Counter* GetCounter(const std::string& name, const Labels& labels = {});
  Gauge* GetGauge(const std::string& name, const Labels& labels = {});
  Histogram* GetHistogram(const std::string& name, const std::vector<double>& upper_bounds,
                          const Labels& labels = {});

  // Help text shown for `name` in the exposition.
  void Describe(const std::string& name, const std::string& help);

  // Labels added to every series on export (role, rank). Thread-safe.
  void SetConstLabels(Labels labels);
  Labels const_labels() const;

  // Registers fn, run before every Collect() to refresh gauges that are
  // cheaper to read on demand (rows per table). Returns an id for
  // RemoveCollector, which waits for a running collection to finish, so
  // fn's captures may be destroyed right after it returns.
  int AddCollector(std::function<void()> fn);
  void RemoveCollector(int id);

  // Runs the collectors, then copies every family, sorted by name.
  std::vector<MetricFamily> Collect() const;

  // Every unlabeled counter, by name (a quick view for logs and benchmarks).
  std::map<std::string, uint64_t> Snapshot() const;

 private:
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    MetricType type = MetricType::kCounter;
    std::map<Labels, Series> series;
  };
  // The series for (name, labels), creating the family as `type`.
  Series& FindOrCreate(const std::string& name, MetricType type, const Labels& labels) REQUIRES(mu_);

  // Guards the maps of families_, not the metric values, which are atomic.
  mutable Mutex mu_;
  std::map<std::string, Family> families_ GUARDED_BY(mu_);
  std::map<std::string, std::string> help_ GUARDED_BY(mu_);  // by name; may precede the family
  Labels const_labels_ GUARDED_BY(mu_);

  mutable Mutex collectors_mu_;  // held while the collectors run
  std::map<int, std::function<void()>> collectors_ GUARDED_BY(collectors_mu_);
  int next_collector_ GUARDED_BY(collectors_mu_) = 0;
};

}  // namespace embedps
