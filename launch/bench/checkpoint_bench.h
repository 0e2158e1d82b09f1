// `embedps bench checkpoint`: fills one table, writes a full checkpoint of
// it to a directory (cut, copy, write, fsync, rename) and restores it into
// a fresh table, reporting GB/s for both, next to what
// `dd if=/dev/zero of=DIR/ddtest bs=1M count=N conv=fdatasync` writes per
// second on the same directory (the disk's sequential ceiling).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace embedps::launch {

struct CheckpointBenchOptions {
  uint64_t rows = 2000000;
  uint32_t dim = 16;
  std::string optimizer = "adagrad";
  bool fp16 = false;
  std::string dir;  // empty: a new directory under $TMPDIR (or /tmp), removed after
  uint32_t repeat = 1;  // timed write+restore runs; medians are reported
  bool json = false;
};

Status RunCheckpointBench(const CheckpointBenchOptions& options);

}  // namespace embedps::launch
