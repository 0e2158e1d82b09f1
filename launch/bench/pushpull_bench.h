// `embedps bench pushpull`: push/pull throughput and latency of a scheduler,
// S servers and W workers on loopback. For every (keys, dim) configuration
// each worker draws batches of unique keys (Zipf(1.1) over a 10-million-key
// space), pushes them all once (so inserts are not timed), then runs three
// timed phases: pulls, pushes, and push+pull round trips, each with a window
// of `depth` requests in flight per worker.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace embedps::launch {

struct PushPullBenchOptions {
  uint32_t servers = 1;
  uint32_t workers = 1;
  std::vector<uint32_t> keys = {10000};
  std::vector<uint32_t> dims = {16};
  double seconds = 3;
  uint32_t depth = 4;          // requests in flight per worker
  // The tables' optimizer (ps::OptimizerConfig names), so a run compares
  // like for like with a parameter server applying the same update.
  std::string optimizer = "adagrad";
  int server_threads = 2;
  uint32_t repeat = 1;         // timed runs per configuration; medians are reported
  uint64_t key_space = 10000000;
  double zipf_s = 1.1;
  bool json = false;
  // Reference run: servers answer without touching their tables.
  bool null_store = false;
  // Encrypt and authenticate every connection with CURVE.
  bool curve = false;
  // Run every configuration with CURVE off, then on, and print both with
  // the ratio (on / off) of each throughput.
  bool curve_compare = false;
  // Copies of each server's rows (2: every push is confirmed by the next
  // server before it is acknowledged; needs 2+ servers).
  uint32_t replicas = 1;
  // Run every configuration with 1 copy, then 2, and print both with the
  // ratio (2 / 1) of each throughput.
  bool replicas_compare = false;
  // After the run, time each configuration's round trips (keys and
  // gradients out, rows back, `depth` in flight) over one plain loopback TCP
  // connection with nothing else done to the bytes
  // (launch/bench/raw_tcp_reference.h), and report push+pull as a ratio of
  // that ceiling. The lines are printed then.
  bool raw_tcp_reference = false;
};

// Runs the benchmark and prints one line (JSON with `json`) per configuration.
Status RunPushPullBench(const PushPullBenchOptions& options);

}  // namespace embedps::launch
