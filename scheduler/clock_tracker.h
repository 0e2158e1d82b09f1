// Bounded staleness (SSP) bookkeeping on the scheduler: the clock of every
// worker (batches trained with every push acknowledged) and which workers
// count towards the minimum a worker's lead is measured against. A worker
// counts while it holds a partition lease and is neither dead nor finished,
// so a worker that waits for work, has finished, or has died never holds the
// others back. See docs/architecture.md, "Consistency".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace embedps::scheduler {

class ClockTracker {
 public:
  // A clock the worker reported (heartbeat or clock report). Clocks only
  // grow: an older, lower report is ignored.
  void Report(uint32_t worker, uint64_t clock);
  // The worker reports clocks and wants the minimum when it advances.
  void Subscribe(uint32_t worker);
  // Whether the worker holds a lease. A worker that becomes active below
  // the current minimum starts at it (it joined late, or waited for work):
  // the clock it must jump to is returned, and it is counted at that clock.
  std::optional<uint64_t> SetActive(uint32_t worker, bool active);
  // Dead or finished: never counted again.
  void Remove(uint32_t worker);

  // The minimum clock over active workers; never decreases. nullopt until
  // some worker is active.
  std::optional<uint64_t> Min() const { return announced_ ? std::optional<uint64_t>(floor_) : std::nullopt; }
  // Recomputes the minimum; returns it when it advanced since the last call
  // (to be sent to the subscribers).
  std::optional<uint64_t> TakeAdvance();
  // Largest clock minus smallest over active workers (0 when fewer than two).
  uint64_t Spread() const;
  // Workers that asked for the minimum (active or not).
  std::vector<uint32_t> Subscribers() const;
  uint64_t ClockOf(uint32_t worker) const;
  // Whether the worker counts towards the minimum (holds a lease).
  bool Counts(uint32_t worker) const;

 private:
  struct Entry {
    uint64_t clock = 0;
    bool active = false;
    bool subscribed = false;
  };
  std::optional<uint64_t> ActiveMin() const;

  std::map<uint32_t, Entry> workers_;  // live, unfinished workers by node id
  uint64_t floor_ = 0;                 // the minimum as last computed
  bool announced_ = false;             // floor_ has been computed over an active worker
};

}  // namespace embedps::scheduler
