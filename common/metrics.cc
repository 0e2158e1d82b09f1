#include "common/metrics.h"

#include <algorithm>

#include <glog/logging.h>

namespace embedps {
namespace {

// std::atomic<double> has no fetch_add before C++20.
void AtomicAdd(std::atomic<double>* target, double delta) {
  double old = target->load(std::memory_order_relaxed);
  while (!target->compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

}  // namespace

void Gauge::Add(double delta) { AtomicAdd(&value_, delta); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  CHECK(std::is_sorted(bounds_.begin(), bounds_.end())) << "histogram bounds must ascend";
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // Prometheus buckets are "less than or equal": v lands in the first bound >= v.
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(&sum_, v);
}

Histogram::Snapshot Histogram::Get() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // Read from the buckets so that +Inf always equals the count shown, even
  // while observations race with the copy.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                               0.0025,  0.005,  0.01,    0.025,  0.05,
                                               0.1,     0.25,   0.5,     1,      2.5,
                                               5,       10};
  return kBuckets;
}

Labels NodeLabels(const std::string& job_id, const std::string& role, int64_t rank) {
  Labels labels = {{"job_id", job_id}, {"role", role}};
  if (rank >= 0) labels.emplace_back("rank", std::to_string(rank));
  return labels;
}

MetricsRegistry::Series& MetricsRegistry::FindOrCreate(const std::string& name, MetricType type,
                                                       const Labels& labels) {
  auto [it, created] = families_.try_emplace(name);
  if (created) it->second.type = type;
  CHECK(it->second.type == type) << "metric " << name << " requested as two types";
  return it->second.series[labels];
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const Labels& labels) {
  MutexLock lock(&mu_);
  Series& s = FindOrCreate(name, MetricType::kCounter, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return s.counter.get();
}

Gauge* MetricsRegistry::GetGauge(const std::string& name, const Labels& labels) {
  MutexLock lock(&mu_);
  Series& s = FindOrCreate(name, MetricType::kGauge, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return s.gauge.get();
}

Histogram* MetricsRegistry::GetHistogram(const std::string& name,
                                         const std::vector<double>& upper_bounds,
                                         const Labels& labels) {
  MutexLock lock(&mu_);
  Series& s = FindOrCreate(name, MetricType::kHistogram, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(upper_bounds);
  return s.histogram.get();
}

void MetricsRegistry::Describe(const std::string& name, const std::string& help) {
  MutexLock lock(&mu_);
  help_[name] = help;
}

void MetricsRegistry::SetConstLabels(Labels labels) {
  MutexLock lock(&mu_);
  const_labels_ = std::move(labels);
}

Labels MetricsRegistry::const_labels() const {
  MutexLock lock(&mu_);
  return const_labels_;
}

int MetricsRegistry::AddCollector(std::function<void()> fn) {
  MutexLock lock(&collectors_mu_);
  collectors_[next_collector_] = std::move(fn);
  return next_collector_++;
}

void MetricsRegistry::RemoveCollector(int id) {
  MutexLock lock(&collectors_mu_);
  collectors_.erase(id);
}

std::vector<MetricFamily> MetricsRegistry::Collect() const {
  {
    MutexLock lock(&collectors_mu_);
    for (const auto& [id, fn] : collectors_) fn();
  }
  MutexLock lock(&mu_);
  std::vector<MetricFamily> out;
  out.reserve(families_.size());
  for (const auto& [name, family] : families_) {
    MetricFamily f;
    f.name = name;
    f.type = family.type;
    auto help = help_.find(name);
    if (help != help_.end()) f.help = help->second;
    for (const auto& [labels, s] : family.series) {
      MetricFamily::Series copy;
      copy.labels = labels;
      if (s.counter) copy.value = static_cast<double>(s.counter->Get());
      if (s.gauge) copy.value = s.gauge->Get();
      if (s.histogram) copy.histogram = s.histogram->Get();
      f.series.push_back(std::move(copy));
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::map<std::string, uint64_t> MetricsRegistry::Snapshot() const {
  MutexLock lock(&mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [name, family] : families_) {
    if (family.type != MetricType::kCounter) continue;
    auto it = family.series.find(Labels{});
    if (it != family.series.end() && it->second.counter) out[name] = it->second.counter->Get();
  }
  return out;
}

}  // namespace embedps
