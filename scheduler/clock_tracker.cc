#include "scheduler/clock_tracker.h"

#include <algorithm>

namespace embedps::scheduler {

void ClockTracker::Report(uint32_t worker, uint64_t clock) {
  Entry& e = workers_[worker];
  e.clock = std::max(e.clock, clock);
}

void ClockTracker::Subscribe(uint32_t worker) { workers_[worker].subscribed = true; }

std::optional<uint64_t> ClockTracker::SetActive(uint32_t worker, bool active) {
  Entry& e = workers_[worker];
  const bool was_active = e.active;
  e.active = active;
  if (!active || was_active || !announced_ || e.clock >= floor_) return std::nullopt;
  e.clock = floor_;
  return floor_;
}

void ClockTracker::Remove(uint32_t worker) { workers_.erase(worker); }

std::optional<uint64_t> ClockTracker::ActiveMin() const {
  std::optional<uint64_t> lowest;
  // A scan: reports come once per batch per worker, and a job has at most
  // hundreds of workers.
  for (const auto& [id, e] : workers_) {
    if (e.active && (!lowest || e.clock < *lowest)) lowest = e.clock;
  }
  return lowest;
}

std::optional<uint64_t> ClockTracker::TakeAdvance() {
  const std::optional<uint64_t> lowest = ActiveMin();
  if (!lowest) return std::nullopt;
  if (announced_ && *lowest <= floor_) return std::nullopt;
  floor_ = announced_ ? std::max(floor_, *lowest) : *lowest;
  announced_ = true;
  return floor_;
}

uint64_t ClockTracker::Spread() const {
  std::optional<uint64_t> lowest;
  uint64_t highest = 0;
  for (const auto& [id, e] : workers_) {
    if (!e.active) continue;
    if (!lowest || e.clock < *lowest) lowest = e.clock;
    highest = std::max(highest, e.clock);
  }
  return lowest ? highest - *lowest : 0;
}

std::vector<uint32_t> ClockTracker::Subscribers() const {
  std::vector<uint32_t> ids;
  for (const auto& [id, e] : workers_) {
    if (e.subscribed) ids.push_back(id);
  }
  return ids;
}

uint64_t ClockTracker::ClockOf(uint32_t worker) const {
  auto it = workers_.find(worker);
  return it == workers_.end() ? 0 : it->second.clock;
}

bool ClockTracker::Counts(uint32_t worker) const {
  auto it = workers_.find(worker);
  return it != workers_.end() && it->second.active;
}

}  // namespace embedps::scheduler
