// Wall-clock expiry on top of the step stamps rows already carry: the table
// remembers which value its step counter had at which time, so "untouched
// for D seconds" becomes "stamped before step S". The counter also ticks on
// each eviction pass, so a table that only serves pulls still tells old
// rows from fresh ones.
//
// A sample (t, s) means: a row stamped s or later was touched at t or after.
// Samples are kept at a resolution of D / 1000, so a row may outlive D by
// that much plus one eviction interval, never less than D.
//
// Not thread-safe; the owning table guards it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace embedps::ps {

class StepTimeline {
 public:
  using Clock = std::chrono::steady_clock;

  // `horizon`: D, how long a row may stay untouched.
  explicit StepTimeline(Clock::duration horizon);

  // At `now` the counter is `step`: rows stamped `step` or later are
  // touched from `now` on. Times and steps must not go backwards.
  void Record(Clock::time_point now, uint64_t step);

  // The step before which rows have been untouched for at least the
  // horizon as of `now`; nullopt while the samples do not reach back that
  // far (the table is younger than D).
  std::optional<uint64_t> IdleBefore(Clock::time_point now) const;

  size_t samples() const { return samples_.size(); }

 private:
  Clock::duration horizon_;
  Clock::duration resolution_;
  std::deque<std::pair<Clock::time_point, uint64_t>> samples_;
};

}  // namespace embedps::ps
