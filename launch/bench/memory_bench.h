// `embedps bench memory`: loads N rows into one table the way a server does
// and reports resident memory per row (from /proc/self/status) against the
// payload (weights plus optimizer state).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace embedps::launch {

struct MemoryBenchOptions {
  uint64_t rows = 1000000;
  uint32_t dim = 16;
  std::string optimizer = "adagrad";
  bool fp16 = false;
  bool json = false;
};

Status RunMemoryBench(const MemoryBenchOptions& options);

}  // namespace embedps::launch
