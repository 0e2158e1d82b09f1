// Turns a growing total (rows trained, keys pushed) into a recent rate:
// each Update() returns the rate since the previous one.
#pragma once

#include <chrono>
#include <cstdint>

namespace embedps {

class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // Per-second rate of `total` since the last call (0 on the first call or
  // when no time passed).
  double Update(uint64_t total, Clock::time_point now = Clock::now()) {
    double rate = 0;
    if (started_) {
      const double dt = std::chrono::duration<double>(now - last_time_).count();
      if (dt > 0 && total >= last_total_) rate = static_cast<double>(total - last_total_) / dt;
    }
    started_ = true;
    last_total_ = total;
    last_time_ = now;
    return rate;
  }

 private:
  bool started_ = false;
  uint64_t last_total_ = 0;
  Clock::time_point last_time_;
};

}  // namespace embedps
