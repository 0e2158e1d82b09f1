// `embedps bench parse`: reads input files through the same reader a worker
// uses (block reads or gzip decompression, line splitting, parsing, hashing)
// on one thread and reports lines per second.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace embedps::launch {

struct ParseBenchOptions {
  std::string files;   // a file, comma-separated files or a glob
  std::string format;  // empty: detected per file
  uint32_t repeat = 3;
  uint32_t batch_size = 1000;
  bool json = false;
};

Status RunParseBench(const ParseBenchOptions& options);

}  // namespace embedps::launch
