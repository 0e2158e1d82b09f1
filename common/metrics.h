// A registry of named monotonic counters. Counters are created on first use
// and live as long as the registry; incrementing one is a relaxed atomic add,
// so hot paths may hold a Counter* and bump it freely from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace embedps {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class MetricsRegistry {
 public:
  // Returns the counter called `name`, creating it at zero. Thread-safe; the
  // pointer stays valid for the registry's lifetime.
  Counter* GetCounter(const std::string& name);
  // A consistent-enough copy of every counter, sorted by name.
  std::map<std::string, uint64_t> Snapshot() const;

 private:
  mutable std::mutex mu_;  // guards counters_ (the map, not the values)
  std::map<std::string, std::unique_ptr<Counter>> counters_;
};

}  // namespace embedps
