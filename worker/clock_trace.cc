#include "worker/clock_trace.h"

#include <chrono>
#include <memory>

namespace embedps::worker {

StatusOr<std::unique_ptr<ClockTrace>> ClockTrace::Open(const std::string& path) {
  auto trace = std::make_unique<ClockTrace>();
  trace->out_.open(path, std::ios::trunc);
  if (!trace->out_) return Unavailable("cannot write the clock trace " + path);
  return trace;
}

void ClockTrace::Record(const char* event, uint64_t clock) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
  out_ << ns << ' ' << event << ' ' << clock << '\n';
}

}  // namespace embedps::worker
