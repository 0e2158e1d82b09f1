// Trains a worker::Model in one process against ps::EmbeddingTable objects
// directly: the same model code and the same server-side optimizer math as a
// distributed job, with no network, sharding or staleness in between. Tests
// use it as the reference the distributed system must match.
#pragma once

#include <memory>
#include <vector>

#include "common/status.h"
#include "ps/embedding_table.h"
#include "worker/model/model.h"

namespace embedps::testing {

class InProcessTrainer {
 public:
  // One table per model table, each with `optimizer`.
  static StatusOr<std::unique_ptr<InProcessTrainer>> Create(worker::Model* model,
                                                             const ps::OptimizerConfig& optimizer,
                                                             uint64_t seed = 1);

  // One pass over `data` in batches, in order. Returns the mean loss.
  double TrainEpoch(const std::vector<data::Example>& data, size_t batch_size);
  // Scores of `data` (rows of unseen keys read as their initial values).
  std::vector<float> Predict(const std::vector<data::Example>& data, size_t batch_size = 1000);

  ps::EmbeddingTable& table(size_t t) { return *tables_[t]; }

 private:
  explicit InProcessTrainer(worker::Model* model) : model_(model) {}
  void Pull(worker::TableRows* rows);

  worker::Model* model_;
  std::vector<std::unique_ptr<ps::EmbeddingTable>> tables_;
};

}  // namespace embedps::testing
