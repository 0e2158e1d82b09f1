#include "tests/support/sgd_test_table.h"

namespace embedps::ps {

StatusOr<std::unique_ptr<EmbeddingTable>> SgdTestTable(uint32_t dim) {
  TableConfig config;
  config.dim = dim;
  config.init = Initializer::kZeros;
  config.optimizer.name = "sgd";
  config.optimizer.learning_rate = 1.0f;
  return EmbeddingTable::Create(config);
}

}  // namespace embedps::ps
