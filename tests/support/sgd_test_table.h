// A small embedding table for tests of the server's request paths: rows of
// `dim` zeros, updated by plain SGD at learning rate 1, so a pushed gradient
// g turns a row's weight w into w - g.
#pragma once

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "ps/embedding_table.h"

namespace embedps::ps {

StatusOr<std::unique_ptr<EmbeddingTable>> SgdTestTable(uint32_t dim);

}  // namespace embedps::ps
