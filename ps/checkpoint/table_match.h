// Whether the tables of a checkpoint file can be loaded into a server's
// tables: same count, and per table the same name, dim, optimizer, fp16
// and row layout. Hyper-parameters, initialization and eviction settings
// may differ (a restart may change them).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "ps/checkpoint/file_format.h"
#include "ps/embedding_table.h"

namespace embedps::ps::checkpoint {

// FailedPrecondition naming `path`, the table and the field that differs.
Status CheckTablesMatch(const std::string& path, const std::vector<TableInfo>& in_file,
                        const std::vector<EmbeddingTable*>& tables);

}  // namespace embedps::ps::checkpoint
