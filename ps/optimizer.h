// Server-side optimizers. Each table row stores its weights followed by the
// optimizer's per-row state; an Optimizer knows how much state it needs and
// how to apply one gradient to one row. Implementations are stateless and
// therefore safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace embedps::ps {

struct OptimizerConfig {
  std::string name = "adagrad";  // "sgd" or "adagrad"
  float learning_rate = 0.05f;
  // Adagrad: starting value of each accumulator; must be > 0 so the first
  // step is finite without an epsilon.
  float initial_accumulator = 0.1f;
  float l2 = 0.0f;  // L2 penalty added to the gradient: g + l2 * w
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Floats of state per row for a row of `dim` weights.
  virtual uint32_t StateFloats(uint32_t dim) const = 0;
  // Writes the initial state of a new row.
  virtual void InitState(float* state, uint32_t dim) const = 0;
  // Applies gradient `grad` (dim floats) to `weights` and `state` in place.
  virtual void Apply(float* weights, float* state, const float* grad, uint32_t dim) const = 0;
};

// InvalidArgument for an unknown name or bad hyper-parameters.
StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& config);

}  // namespace embedps::ps
