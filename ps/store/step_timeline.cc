#include "ps/store/step_timeline.h"

namespace embedps::ps {

StepTimeline::StepTimeline(Clock::duration horizon) : horizon_(horizon), resolution_(horizon / 1000) {}

void StepTimeline::Record(Clock::time_point now, uint64_t step) {
  // Within the resolution of the last sample, keeping the older one is the
  // safe side: it claims less about when rows were touched.
  if (!samples_.empty() && now - samples_.back().first < resolution_) return;
  samples_.emplace_back(now, step);
  // Only the newest sample at or before now - horizon is ever asked for
  // again; older ones go.
  const Clock::time_point cutoff = now - horizon_;
  while (samples_.size() >= 2 && samples_[1].first <= cutoff) samples_.pop_front();
}

std::optional<uint64_t> StepTimeline::IdleBefore(Clock::time_point now) const {
  const Clock::time_point cutoff = now - horizon_;
  std::optional<uint64_t> step;
  for (const auto& [time, s] : samples_) {
    if (time > cutoff) break;
    step = s;
  }
  return step;
}

}  // namespace embedps::ps
