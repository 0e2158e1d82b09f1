// The interface every model trained on the parameter servers implements.
//
// A model owns no parameters: its embeddings (and dense weights) live in
// server tables. A training step is
//   Prepare(batch)            -> which rows of which tables the batch needs
//   (the worker pulls them)
//   Step(batch, rows, grads)  -> gradients for exactly those rows, and loss
//   (the worker pushes them; the servers' optimizers apply them).
// Predict() scores examples from pulled rows without computing gradients.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::worker {

// A table the model needs on the servers. Ids are assigned in order.
struct ModelTable {
  std::string name;
  uint32_t dim = 1;
  // Initial values: "zeros", "uniform" or "normal" with this scale.
  std::string initializer = "zeros";
  float init_scale = 0.0f;
  // Dense parameters (MLP weights): every batch reads all rows, keys
  // 0..rows-1, and they take the job's dense optimizer.
  bool dense = false;
  // Rows are [linear weight, factors...]: the factors may take their own
  // learning rate (--factor_learning_rate).
  bool factor_row = false;
};

// What the model optimizes, which decides the metrics the job reports.
enum class Objective {
  kBinary,  // clicks: log loss on sigmoid(score); AUC, log loss
  kRating,  // explicit ratings: squared error; RMSE, MAE
};

// The loss of one example with raw score y (a logit for kBinary, the
// predicted rating for kRating), added to *loss, and d(loss)/dy. For
// kRating the loss is (y - label)^2 and the gradient that of half of it.
float ObjectiveGradient(Objective objective, float y, float label, double* loss);

// The loss ObjectiveGradient adds up, as reports name it: "logloss" or
// "squared_error".
const char* ObjectiveLossName(Objective objective);

// What a score becomes for users: a probability (kBinary) or a rating.
float ObjectiveOutput(Objective objective, float y, float min_rating, float max_rating);

// Rows of every table for one batch: rows[t] holds Keys(t).size() * dim(t)
// floats, in the order of Keys(t).
using TableRows = std::vector<std::vector<float>>;

class Model {
 public:
  virtual ~Model() = default;

  virtual std::string name() const = 0;
  virtual Objective objective() const = 0;
  virtual const std::vector<ModelTable>& tables() const = 0;

  // Indexes `batch`; afterwards Keys(t) lists the unique keys of table t
  // the batch reads.
  virtual void Prepare(const std::vector<data::Example>& batch) = 0;
  virtual const std::vector<uint64_t>& Keys(size_t table) const = 0;

  // Given the rows of the prepared batch, writes the gradient of the summed
  // loss (regularization included) for each row into grads (same shape as
  // rows) and returns the summed loss without regularization.
  virtual double Step(const std::vector<data::Example>& batch, const TableRows& rows,
                      TableRows* grads) = 0;

  // Scores of the prepared batch: click probabilities (kBinary) or predicted
  // ratings (kRating).
  virtual void Predict(const std::vector<data::Example>& batch, const TableRows& rows,
                       std::vector<float>* scores) = 0;
};

}  // namespace embedps::worker
