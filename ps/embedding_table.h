// One embedding table held by a server: 64-bit keys to rows of `dim` floats,
// created on first touch with a deterministic initial value, updated in place
// by the table's optimizer. Rows and their optimizer state sit together in one
// growing slab (weights then state), found through a key -> row index map.
//
// Not thread-safe: a table is owned by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/model_file.h"
#include "common/status.h"
#include "ps/optimizer.h"

namespace embedps::ps {

struct TableConfig {
  uint32_t id = 0;
  std::string name = "weights";
  uint32_t dim = 1;
  // New rows start uniform in [-init_scale, init_scale], derived from
  // (seed, table id, key) only, so any server creates the same row.
  float init_scale = 0.0f;
  uint64_t seed = 0;
  OptimizerConfig optimizer;
};

class EmbeddingTable {
 public:
  static StatusOr<std::unique_ptr<EmbeddingTable>> Create(const TableConfig& config);

  // Copies the rows of `keys` (creating missing ones) into out[n * dim].
  void Pull(const uint64_t* keys, size_t n, float* out);

  // Applies grads[n * dim] to the rows of `keys`. The whole push is rejected
  // with InvalidArgument, and nothing is changed, if any gradient is NaN/Inf.
  Status Push(const uint64_t* keys, size_t n, const float* grads);

  // The deterministic initial weights of `key` (dim floats into out).
  void InitialValue(uint64_t key, float* out) const;

  // Copies every row's weights (not optimizer state) into a model shard.
  ModelShard Export() const;

  size_t size() const { return index_.size(); }
  const TableConfig& config() const { return config_; }

 private:
  EmbeddingTable(const TableConfig& config, std::unique_ptr<Optimizer> optimizer);
  // Returns the row's offset in slab_, creating the row on first touch.
  size_t FindOrCreate(uint64_t key);

  TableConfig config_;
  std::unique_ptr<Optimizer> optimizer_;
  uint32_t stride_;  // floats per row: dim weights + optimizer state
  std::unordered_map<uint64_t, uint32_t> index_;  // key -> row number
  std::vector<float> slab_;
  std::vector<uint64_t> row_keys_;  // row number -> key, for export
};

}  // namespace embedps::ps
