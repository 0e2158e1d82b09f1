#include "ps/embedding_table.h"

#include <cmath>
#include <cstring>

#include "common/hash.h"

namespace embedps::ps {

StatusOr<std::unique_ptr<EmbeddingTable>> EmbeddingTable::Create(const TableConfig& config) {
  if (config.dim == 0 || config.dim > 1024) {
    return InvalidArgument("table '" + config.name + "': dim must be in 1..1024");
  }
  if (!(config.init_scale >= 0) || !std::isfinite(config.init_scale)) {
    return InvalidArgument("table '" + config.name + "': init scale must be >= 0");
  }
  auto optimizer = MakeOptimizer(config.optimizer);
  if (!optimizer.ok()) return optimizer.status().WithContext("table '" + config.name + "'");
  return std::unique_ptr<EmbeddingTable>(
      new EmbeddingTable(config, std::move(optimizer).value()));
}

EmbeddingTable::EmbeddingTable(const TableConfig& config, std::unique_ptr<Optimizer> optimizer)
    : config_(config),
      optimizer_(std::move(optimizer)),
      stride_(config.dim + optimizer_->StateFloats(config.dim)) {}

void EmbeddingTable::InitialValue(uint64_t key, float* out) const {
  const uint64_t base = HashCombine(HashCombine(config_.seed, config_.id), key);
  for (uint32_t i = 0; i < config_.dim; ++i) {
    const double u = HashToUnit(HashCombine(base, i));
    out[i] = static_cast<float>((2.0 * u - 1.0) * config_.init_scale);
  }
}

size_t EmbeddingTable::FindOrCreate(uint64_t key) {
  auto [it, inserted] = index_.try_emplace(key, static_cast<uint32_t>(row_keys_.size()));
  const size_t offset = size_t{it->second} * stride_;
  if (inserted) {
    row_keys_.push_back(key);
    slab_.resize(slab_.size() + stride_);
    InitialValue(key, &slab_[offset]);
    optimizer_->InitState(&slab_[offset + config_.dim], config_.dim);
  }
  return offset;
}

void EmbeddingTable::Pull(const uint64_t* keys, size_t n, float* out) {
  const uint32_t dim = config_.dim;
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(out + i * dim, &slab_[FindOrCreate(keys[i])], dim * sizeof(float));
  }
}

Status EmbeddingTable::Push(const uint64_t* keys, size_t n, const float* grads) {
  const uint32_t dim = config_.dim;
  for (size_t i = 0; i < n * dim; ++i) {
    if (!std::isfinite(grads[i])) {
      return InvalidArgument("gradient for key " + std::to_string(keys[i / dim]) +
                             " is not finite; push rejected");
    }
  }
  for (size_t i = 0; i < n; ++i) {
    float* row = &slab_[FindOrCreate(keys[i])];
    optimizer_->Apply(row, row + dim, grads + i * dim, dim);
  }
  return Status::OK();
}

ModelShard EmbeddingTable::Export() const {
  ModelShard shard;
  shard.table = config_.id;
  shard.dim = config_.dim;
  shard.keys = row_keys_;
  shard.values.resize(row_keys_.size() * config_.dim);
  for (size_t r = 0; r < row_keys_.size(); ++r) {
    std::memcpy(&shard.values[r * config_.dim], &slab_[r * stride_], config_.dim * sizeof(float));
  }
  return shard;
}

}  // namespace embedps::ps
