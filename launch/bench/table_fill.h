// Fills a table with `rows` distinct keys the way a server gets them (one
// push per batch of new keys), for the benchmarks that need a big table.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "ps/embedding_table.h"

namespace embedps::launch {

// The benchmark table: `dim`, `optimizer`, fp16 storage or not, normal
// initialization. InvalidArgument for a row count outside 1..2^32-1.
StatusOr<ps::TableConfig> BenchTableConfig(uint64_t rows, uint32_t dim, const std::string& optimizer,
                                           bool fp16);

// Pushes keys Mix64(1..rows) with small gradients; prints progress to
// stderr every 5 s under `label` unless `quiet`.
Status FillTable(ps::EmbeddingTable& table, uint64_t rows, const std::string& label, bool quiet);

}  // namespace embedps::launch
