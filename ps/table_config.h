// What a table is (id, name, dim, initializer, optimizer, storage and
// eviction settings), apart from the table itself: checkpoint file headers
// record it, and readers of those files (the scheduler checking a
// checkpoint) need it without the table's store.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "ps/optimizer.h"

namespace embedps::ps {

enum class Initializer { kZeros, kUniform, kNormal };

// Parses "zeros", "uniform" or "normal".
StatusOr<Initializer> ParseInitializer(const std::string& name);
const char* InitializerName(Initializer init);

struct TableConfig {
  uint32_t id = 0;
  std::string name = "weights";
  uint32_t dim = 1;
  // New rows: zeros, uniform in [-init_scale, init_scale], or normal with
  // standard deviation init_scale, derived from (seed, table id, key) only,
  // so any server creates the same row.
  Initializer init = Initializer::kUniform;
  float init_scale = 0.0f;
  uint64_t seed = 0;
  OptimizerConfig optimizer;
  // Store weights as IEEE fp16 (math stays float32).
  bool fp16 = false;
  // A key gets a row only on its Nth push; before that pulls return the
  // initial value and pushes are only counted. 0 or 1: rows at first touch.
  uint32_t admit_after = 0;
  // Rows untouched (pulled or pushed) for this many pushes to the table are
  // evicted by EvictIdle(). 0: never.
  uint64_t evict_after_steps = 0;
  // Rows untouched for this many seconds of wall-clock time are evicted by
  // EvictIdle() (ps/store/step_timeline.h), for tables that train for
  // weeks on a stream. 0: never. Not recorded in checkpoint headers: a
  // restored table takes the running server's setting, and its rows count
  // as touched at the restore.
  uint64_t evict_after_seconds = 0;
  // Once live rows take more than this (rows x bytes per row, index
  // included), EvictIdle() drops the least recently touched. 0: unlimited.
  uint64_t memory_budget_bytes = 0;
};

}  // namespace embedps::ps
