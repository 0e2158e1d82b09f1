// For the scheduler's pure-state parts tested with a fake clock (membership,
// checkpoints, failover, evaluation, history): the time a test starts at,
// and the job's progress totals the core hands them. Header only: it links
// nothing, so the unit tests that include it stay light.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/transport.h"
#include "common/wire/messages.h"

namespace embedps::scheduler {

// An hour after the clock's epoch, so a test may go back from it.
inline const Clock::time_point kStart = Clock::time_point() + std::chrono::hours(1);

// The job's totals after `rows` rows trained at a summed loss of `loss_sum`.
inline wire::Progress Trained(uint64_t rows, double loss_sum) {
  wire::Progress p;
  p.rows = rows;
  p.loss_sum = loss_sum;
  return p;
}

}  // namespace embedps::scheduler
