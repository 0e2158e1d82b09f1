// Helpers of the checkpoint tests: tables filled by real pushes, exact
// row dumps (key -> the row's bytes) and one-call write/restore.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ps/checkpoint/checkpoint.h"
#include "ps/embedding_table.h"

namespace embedps::ps::checkpoint {

using Rows = std::map<uint64_t, std::string>;

inline TableConfig TestConfig(const std::string& name, uint32_t dim, const std::string& optimizer,
                              uint32_t id = 0) {
  TableConfig c;
  c.id = id;
  c.name = name;
  c.dim = dim;
  c.init = Initializer::kNormal;
  c.init_scale = 0.1f;
  c.seed = 5;
  c.optimizer.name = optimizer;
  c.optimizer.learning_rate = 0.1f;
  return c;
}

inline std::unique_ptr<EmbeddingTable> NewTable(const TableConfig& c) {
  auto t = EmbeddingTable::Create(c);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

// Every row of `t`, byte for byte (weights, optimizer state, stamp).
inline Rows Dump(const EmbeddingTable& t) {
  const StripeCopy all = t.ExportRecords();
  const size_t record = 8 + t.row_bytes();
  Rows rows;
  for (uint64_t i = 0; i < all.count; ++i) {
    const char* r = all.records.get() + i * record;
    uint64_t key;
    std::memcpy(&key, r, 8);
    EXPECT_TRUE(rows.emplace(key, std::string(r + 8, t.row_bytes())).second) << "key twice: " << key;
  }
  return rows;
}

// Pushes random gradients to `keys` (`times` pushes of the whole list).
inline void PushRandom(EmbeddingTable& t, const std::vector<uint64_t>& keys, int times,
                       uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.5f);
  std::vector<float> grads(keys.size() * t.config().dim);
  for (int i = 0; i < times; ++i) {
    for (float& v : grads) v = g(rng);
    ASSERT_TRUE(t.Push(keys.data(), keys.size(), grads.data()).ok());
  }
}

inline std::vector<uint64_t> KeyRange(uint64_t first, uint64_t count) {
  std::vector<uint64_t> keys;
  for (uint64_t k = first; k < first + count; ++k) keys.push_back(k * 0x9e3779b97f4a7c15ULL);
  return keys;
}

// Cuts `tables` and writes the snapshot to `path`.
inline WriteStats WriteCheckpoint(const std::vector<EmbeddingTable*>& tables, const CutInfo& info,
                                  const std::string& path) {
  auto writer = Cut(tables, info);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  if (!writer.ok()) return {};
  auto stats = (*writer)->Write(path);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  return stats.ok() ? *stats : WriteStats{};
}

inline CutInfo FullCut(uint64_t id, uint32_t rank = 0) {
  CutInfo c;
  c.checkpoint_id = id;
  c.kind = Kind::kFull;
  c.cluster_id = 77;
  c.server_rank = rank;
  return c;
}

inline CutInfo DeltaCut(uint64_t id, uint64_t base, uint32_t rank = 0) {
  CutInfo c = FullCut(id, rank);
  c.kind = Kind::kDelta;
  c.base_id = base;
  return c;
}

inline bool OwnAll(uint32_t, uint64_t) { return true; }

}  // namespace embedps::ps::checkpoint
