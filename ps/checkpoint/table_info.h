// A table's entry in a checkpoint file's header, from the live table.
#pragma once

#include <cstdint>

#include "ps/checkpoint/file_format.h"
#include "ps/embedding_table.h"

namespace embedps::ps::checkpoint {

TableInfo DescribeTable(const EmbeddingTable& table, uint64_t step);

}  // namespace embedps::ps::checkpoint
