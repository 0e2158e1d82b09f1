#include "ps/optimizer.h"

#include <cmath>

namespace embedps::ps {
namespace {

// w -= lr * (g + l2 * w)
class SgdOptimizer final : public Optimizer {
 public:
  explicit SgdOptimizer(const OptimizerConfig& c) : lr_(c.learning_rate), l2_(c.l2) {}
  uint32_t StateFloats(uint32_t) const override { return 0; }
  void InitState(float*, uint32_t) const override {}
  void Apply(float* w, float*, const float* g, uint32_t dim) const override {
    for (uint32_t i = 0; i < dim; ++i) w[i] -= lr_ * (g[i] + l2_ * w[i]);
  }

 private:
  float lr_, l2_;
};

// acc += g^2; w -= lr * g / sqrt(acc)   (Duchi et al. 2011, per coordinate)
class AdagradOptimizer final : public Optimizer {
 public:
  explicit AdagradOptimizer(const OptimizerConfig& c)
      : lr_(c.learning_rate), init_(c.initial_accumulator), l2_(c.l2) {}
  uint32_t StateFloats(uint32_t dim) const override { return dim; }
  void InitState(float* acc, uint32_t dim) const override {
    for (uint32_t i = 0; i < dim; ++i) acc[i] = init_;
  }
  void Apply(float* w, float* acc, const float* g, uint32_t dim) const override {
    for (uint32_t i = 0; i < dim; ++i) {
      const float grad = g[i] + l2_ * w[i];
      acc[i] += grad * grad;
      w[i] -= lr_ * grad / std::sqrt(acc[i]);
    }
  }

 private:
  float lr_, init_, l2_;
};

}  // namespace

StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& c) {
  if (!(c.learning_rate > 0) || !std::isfinite(c.learning_rate)) {
    return InvalidArgument("learning rate must be a positive number");
  }
  if (c.l2 < 0 || !std::isfinite(c.l2)) return InvalidArgument("l2 must be >= 0");
  if (c.name == "sgd") return std::unique_ptr<Optimizer>(new SgdOptimizer(c));
  if (c.name == "adagrad") {
    if (!(c.initial_accumulator > 0)) {
      return InvalidArgument("adagrad initial accumulator must be > 0");
    }
    return std::unique_ptr<Optimizer>(new AdagradOptimizer(c));
  }
  return InvalidArgument("unknown optimizer '" + c.name + "' (expected sgd or adagrad)");
}

}  // namespace embedps::ps
