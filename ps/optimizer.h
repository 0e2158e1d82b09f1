// Server-side optimizers. Each table row stores its weights followed by the
// optimizer's per-row state; an Optimizer knows how much state it needs and
// how to apply one gradient to one row. Implementations are stateless and
// therefore safe to share between threads.
//
// Only rows that receive a gradient are updated (sparse, "lazy" semantics):
// a row that is not pushed keeps its weights and state untouched, so e.g.
// Adam's bias correction counts the steps of each row, not global steps.
//
// Per-row state layout (floats after the `dim` weights), by optimizer name:
//   sgd              none
//   adagrad          acc[dim]            one accumulator per coordinate
//   rowwise_adagrad  acc                 one accumulator for the whole row
//   adam             m[dim], v[dim], t   t is a uint32 step count whose bits
//                                        are memcpy'd into the last float
//   ftrl             z[dim], n[dim]      McMahan et al. 2013, Algorithm 1
//
// Every optimizer first clips the pushed row gradient to L2 norm
// `clip_norm` (when > 0). sgd, adagrad, rowwise_adagrad and adam then add
// the L2 penalty to it (g' = g + l2 * w); ftrl instead uses l2 as lambda2 in
// its closed-form weight, as in the paper.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace embedps::ps {

struct OptimizerConfig {
  // "sgd", "adagrad", "rowwise_adagrad", "adam" or "ftrl".
  std::string name = "adagrad";
  // Step size of every optimizer; alpha for ftrl.
  float learning_rate = 0.05f;
  // Adagrad (both kinds): starting value of each accumulator; must be > 0 so
  // the first step is finite without an epsilon.
  float initial_accumulator = 0.1f;
  // L2 penalty: added to the gradient as l2 * w, or lambda2 for ftrl.
  float l2 = 0.0f;
  // Adagrad (both kinds), for rows [linear weight, factors...] (the FM,
  // DeepFM and MF "factors" table): when > 0, the step size of every
  // coordinate but the first; the first keeps learning_rate. 0: one rate.
  // Not stored in checkpoints: it changes no state, and the table
  // declarations of the resumed job give it again.
  float factor_learning_rate = 0.0f;

  // Adam: moment decay rates in [0, 1) and the denominator's epsilon (> 0).
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;

  // FTRL-proximal: lambda1 (L1 strength, >= 0; larger values give more rows
  // of exact zeros) and beta (> 0, smooths the per-coordinate step early on).
  float l1 = 0.0f;
  float ftrl_beta = 1.0f;

  // When > 0, a pushed row gradient whose L2 norm exceeds clip_norm is scaled
  // down to that norm before the update. 0 disables clipping.
  float clip_norm = 0.0f;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Floats of state per row for a row of `dim` weights.
  virtual uint32_t StateFloats(uint32_t dim) const = 0;
  // Writes the initial state of a new row.
  virtual void InitState(float* state, uint32_t dim) const = 0;
  // Applies gradient `grad` (dim floats) to `weights` and `state` in place.
  // Does not allocate; concurrent calls on different rows are safe.
  virtual void Apply(float* weights, float* state, const float* grad, uint32_t dim) const = 0;
};

// OK when `config` names a known optimizer and every hyper-parameter is
// finite and in range for it; otherwise InvalidArgument saying which value is
// wrong. Fields the named optimizer does not read are only checked for being
// finite, so e.g. "sgd" does not fail on Adam's betas.
Status ValidateOptimizerConfig(const OptimizerConfig& config);

// InvalidArgument for an unknown name or bad hyper-parameters (see
// ValidateOptimizerConfig).
StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& config);

}  // namespace embedps::ps
