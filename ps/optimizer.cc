#include "ps/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <utility>

namespace embedps::ps {
namespace {

// The Adagrad inner loop. The sqrt and division dominate the server's push
// cost, and AVX2 does twice as many per instruction, so the loop is compiled
// for AVX2 as well as for baseline x86-64 and the optimizer picks one for
// this CPU when it is built. (A plain function pointer rather than an ifunc
// / target_clones: ifunc resolvers run before sanitizer runtimes start.)
using AdagradLoopFn = void (*)(float*, float*, const float*, uint32_t, float, float, float);

inline __attribute__((always_inline)) void AdagradBody(float* __restrict w, float* __restrict acc,
                                                       const float* __restrict g, uint32_t dim,
                                                       float s, float lr, float l2) {
  for (uint32_t i = 0; i < dim; ++i) {
    const float grad = s * g[i] + l2 * w[i];
    acc[i] += grad * grad;
    w[i] -= lr * grad / std::sqrt(acc[i]);
  }
}

void AdagradLoopBaseline(float* w, float* acc, const float* g, uint32_t dim, float s, float lr,
                         float l2) {
  AdagradBody(w, acc, g, dim, s, lr, l2);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void AdagradLoopAvx2(float* w, float* acc, const float* g,
                                                     uint32_t dim, float s, float lr, float l2) {
  AdagradBody(w, acc, g, dim, s, lr, l2);
}
#endif

AdagradLoopFn PickAdagradLoop() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return AdagradLoopAvx2;
#endif
  return AdagradLoopBaseline;
}

// Sum over i < dim of value(i)^2, in double so that squares of large but
// finite gradients cannot overflow to inf.
template <typename ValueFn>
double SumOfSquares(uint32_t dim, ValueFn value) {
  double sum = 0.0;
  for (uint32_t i = 0; i < dim; ++i) {
    const double x = value(i);
    sum += x * x;
  }
  return sum;
}

// Factor that brings the row gradient's L2 norm down to `clip_norm`, or 1
// when clipping is off or the norm is already within bounds. Returning a
// factor (instead of a clipped copy) keeps Apply free of allocations; the
// double sum keeps a huge finite gradient from giving an inf norm and a
// factor of 0.
float ClipScale(const float* g, uint32_t dim, float clip_norm) {
  if (clip_norm <= 0.0f) return 1.0f;
  const double norm = std::sqrt(SumOfSquares(dim, [g](uint32_t i) { return g[i]; }));
  return norm > clip_norm ? static_cast<float>(clip_norm / norm) : 1.0f;
}

// Hyper-parameters every optimizer reads, and the clipping they all apply.
class OptimizerBase : public Optimizer {
 protected:
  explicit OptimizerBase(const OptimizerConfig& c)
      : lr_(c.learning_rate), l2_(c.l2), clip_norm_(c.clip_norm) {}

  float lr() const { return lr_; }
  float l2() const { return l2_; }
  // Multiply each pushed gradient coordinate by this before using it.
  float GradScale(const float* g, uint32_t dim) const { return ClipScale(g, dim, clip_norm_); }

 private:
  const float lr_;
  const float l2_;
  const float clip_norm_;
};

// w -= lr * (g + l2 * w)
class SgdOptimizer final : public OptimizerBase {
 public:
  explicit SgdOptimizer(const OptimizerConfig& c) : OptimizerBase(c) {}
  uint32_t StateFloats(uint32_t) const override { return 0; }
  void InitState(float*, uint32_t) const override {}
  void Apply(float* w, float*, const float* g, uint32_t dim) const override {
    const float s = GradScale(g, dim);
    const float lr = this->lr(), l2 = this->l2();
    for (uint32_t i = 0; i < dim; ++i) w[i] -= lr * (s * g[i] + l2 * w[i]);
  }
};

// acc += g^2; w -= lr * g / sqrt(acc)   (Duchi et al. 2011, per coordinate)
class AdagradOptimizer final : public OptimizerBase {
 public:
  explicit AdagradOptimizer(const OptimizerConfig& c)
      : OptimizerBase(c), init_(c.initial_accumulator), factor_lr_(c.factor_learning_rate),
        loop_(PickAdagradLoop()) {}
  uint32_t StateFloats(uint32_t dim) const override { return dim; }
  void InitState(float* acc, uint32_t dim) const override { std::fill_n(acc, dim, init_); }
  void Apply(float* w, float* acc, const float* g, uint32_t dim) const override {
    const float s = GradScale(g, dim);
    if (factor_lr_ > 0 && dim > 1) {
      loop_(w, acc, g, 1, s, lr(), l2());
      loop_(w + 1, acc + 1, g + 1, dim - 1, s, factor_lr_, l2());
      return;
    }
    loop_(w, acc, g, dim, s, lr(), l2());
  }

 private:
  const float init_;
  const float factor_lr_;
  const AdagradLoopFn loop_;
};

// Adagrad with one accumulator per row instead of per coordinate:
// acc += mean_i(g_i^2); w -= lr * g / sqrt(acc). Costs 1 float of state per
// row instead of dim, which matters for wide tables with many rows.
class RowwiseAdagradOptimizer final : public OptimizerBase {
 public:
  explicit RowwiseAdagradOptimizer(const OptimizerConfig& c)
      : OptimizerBase(c), init_(c.initial_accumulator), factor_lr_(c.factor_learning_rate) {}
  uint32_t StateFloats(uint32_t) const override { return 1; }
  void InitState(float* acc, uint32_t) const override { *acc = init_; }
  void Apply(float* w, float* acc, const float* g, uint32_t dim) const override {
    const float s = GradScale(g, dim);
    const float lr = this->lr(), l2 = this->l2();
    // Two passes because the step of every coordinate depends on the whole
    // row's mean square; w is not modified by the first pass, so both passes
    // see the same g + l2 * w.
    const double sum_sq = SumOfSquares(dim, [=](uint32_t i) { return s * g[i] + l2 * w[i]; });
    *acc += static_cast<float>(sum_sq / dim);
    const float step = lr / std::sqrt(*acc);
    const float factor_step = factor_lr_ > 0 ? factor_lr_ / std::sqrt(*acc) : step;
    for (uint32_t i = 0; i < dim; ++i) w[i] -= (i == 0 ? step : factor_step) * (s * g[i] + l2 * w[i]);
  }

 private:
  const float init_;
  const float factor_lr_;
};

// Lazy Adam (Kingma & Ba 2015) with a step count per row, so the bias
// correction of a rarely pushed row matches the number of updates it has
// actually seen. State: m[dim], v[dim], then the uint32 step count stored as
// the bits of one float (memcpy, never read as a number).
class AdamOptimizer final : public OptimizerBase {
 public:
  explicit AdamOptimizer(const OptimizerConfig& c)
      : OptimizerBase(c),
        beta1_(c.beta1),
        beta2_(c.beta2),
        epsilon_(c.epsilon),
        // log(beta) via log1p(beta - 1): beta - 1 is exact in double, so betas
        // close to 1 keep their precision. beta == 0 gives -inf, for which
        // InverseBiasCorrection correctly yields 1.
        log_beta1_(std::log1p(static_cast<double>(c.beta1) - 1.0)),
        log_beta2_(std::log1p(static_cast<double>(c.beta2) - 1.0)) {}

  uint32_t StateFloats(uint32_t dim) const override { return 2 * dim + 1; }

  void InitState(float* state, uint32_t dim) const override {
    std::fill_n(state, 2 * dim, 0.0f);
    StoreStep(state + 2 * dim, 0);
  }

  void Apply(float* w, float* state, const float* g, uint32_t dim) const override {
    float* m = state;
    float* v = state + dim;
    const uint32_t t = NextStep(LoadStep(state + 2 * dim));
    StoreStep(state + 2 * dim, t);
    const float m_correction = InverseBiasCorrection(log_beta1_, t);
    const float v_correction = InverseBiasCorrection(log_beta2_, t);
    const float s = GradScale(g, dim);
    const float lr = this->lr(), l2 = this->l2();
    const float b1 = beta1_, b2 = beta2_, one_minus_b1 = 1.0f - b1, one_minus_b2 = 1.0f - b2;
    const float eps = epsilon_;
    for (uint32_t i = 0; i < dim; ++i) {
      const float grad = s * g[i] + l2 * w[i];
      m[i] = b1 * m[i] + one_minus_b1 * grad;
      v[i] = b2 * v[i] + one_minus_b2 * grad * grad;
      const float m_hat = m[i] * m_correction;
      const float v_hat = v[i] * v_correction;
      w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }

 private:
  static uint32_t LoadStep(const float* slot) {
    uint32_t t;
    std::memcpy(&t, slot, sizeof(t));
    return t;
  }
  static void StoreStep(float* slot, uint32_t t) { std::memcpy(slot, &t, sizeof(t)); }

  // Saturates instead of wrapping: t = 0 would make 1 - beta^t = 0 and divide
  // by zero, while at 2^32 steps the correction is exactly 1 anyway.
  static uint32_t NextStep(uint32_t t) {
    return t == std::numeric_limits<uint32_t>::max() ? t : t + 1;
  }

  // 1 / (1 - beta^t) for t >= 1. expm1 keeps 1 - beta^t accurate when beta^t
  // is close to 1 (early steps with beta2 = 0.999), where the plain
  // subtraction in float would lose most of its digits; it also avoids a pow
  // per row.
  static float InverseBiasCorrection(double log_beta, uint32_t t) {
    return static_cast<float>(-1.0 / std::expm1(static_cast<double>(t) * log_beta));
  }

  const float beta1_;
  const float beta2_;
  const float epsilon_;
  const double log_beta1_;
  const double log_beta2_;
};

// FTRL-proximal, McMahan et al. 2013 ("Ad Click Prediction: a View from the
// Trenches", Algorithm 1), per coordinate, with alpha = learning_rate,
// beta = ftrl_beta, lambda1 = l1, lambda2 = l2. State: z[dim], n[dim]. The
// weight is a function of (z, n), recomputed and stored on every update so
// that pulls read it directly; L1 makes it exactly 0 while |z| <= lambda1.
class FtrlOptimizer final : public OptimizerBase {
 public:
  explicit FtrlOptimizer(const OptimizerConfig& c)
      : OptimizerBase(c), l1_(c.l1), beta_(c.ftrl_beta) {}

  uint32_t StateFloats(uint32_t dim) const override { return 2 * dim; }

  void InitState(float* state, uint32_t dim) const override { std::fill_n(state, 2 * dim, 0.0f); }

  void Apply(float* w, float* state, const float* g, uint32_t dim) const override {
    float* z = state;
    float* n = state + dim;
    const float s = GradScale(g, dim);
    const float alpha = lr();
    for (uint32_t i = 0; i < dim; ++i) {
      const float grad = s * g[i];
      const float sqrt_n_old = std::sqrt(n[i]);
      n[i] += grad * grad;
      const float sqrt_n = std::sqrt(n[i]);
      const float sigma = (sqrt_n - sqrt_n_old) / alpha;
      // The paper's z update uses the weight before this step.
      z[i] += grad - sigma * w[i];
      w[i] = Weight(z[i], sqrt_n);
    }
  }

 private:
  // w = 0 if |z| <= l1, else -(z - sign(z) * l1) / ((beta + sqrt(n)) / alpha + l2).
  float Weight(float z, float sqrt_n) const {
    if (std::fabs(z) <= l1_) return 0.0f;  // +0.0f, so sparse rows are all-zero bits
    return (std::copysign(l1_, z) - z) / ((beta_ + sqrt_n) / lr() + l2());
  }

  const float l1_;
  const float beta_;
};

// ---- Construction and validation ----

template <typename T>
std::unique_ptr<Optimizer> New(const OptimizerConfig& c) {
  return std::make_unique<T>(c);
}

struct OptimizerEntry {
  const char* name;
  std::unique_ptr<Optimizer> (*make)(const OptimizerConfig&);
};

// The one list of known optimizers: MakeOptimizer and the error message for
// an unknown name both come from it.
constexpr OptimizerEntry kOptimizers[] = {
    {"sgd", &New<SgdOptimizer>},
    {"adagrad", &New<AdagradOptimizer>},
    {"rowwise_adagrad", &New<RowwiseAdagradOptimizer>},
    {"adam", &New<AdamOptimizer>},
    {"ftrl", &New<FtrlOptimizer>},
};

const OptimizerEntry* FindOptimizer(const std::string& name) {
  for (const OptimizerEntry& e : kOptimizers) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

std::string ValidNames() {
  std::string names;
  for (const OptimizerEntry& e : kOptimizers) {
    if (!names.empty()) names += ", ";
    names += e.name;
  }
  return names;
}

// Short, readable form for messages ("0.1", not "0.100000").
std::string FormatFloat(float v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

Status BadValue(const OptimizerConfig& c, const char* field, const char* requirement,
                float value) {
  return InvalidArgument("optimizer '" + c.name + "': " + field + " must be " + requirement +
                         ", got " + FormatFloat(value));
}

// Non-finite values are rejected even in fields the optimizer ignores: they
// can only come from a broken flag or config, never from a deliberate choice.
Status CheckAllFinite(const OptimizerConfig& c) {
  const std::pair<const char*, float> fields[] = {
      {"learning_rate", c.learning_rate},
      {"initial_accumulator", c.initial_accumulator},
      {"l2", c.l2},
      {"beta1", c.beta1},
      {"beta2", c.beta2},
      {"epsilon", c.epsilon},
      {"l1", c.l1},
      {"ftrl_beta", c.ftrl_beta},
      {"clip_norm", c.clip_norm},
      {"factor_learning_rate", c.factor_learning_rate},
  };
  for (const auto& [field, value] : fields) {
    if (!std::isfinite(value)) return BadValue(c, field, "finite", value);
  }
  return Status::OK();
}

Status CheckPositive(const OptimizerConfig& c, const char* field, float value) {
  return value > 0.0f ? Status::OK() : BadValue(c, field, "> 0", value);
}

// Rates above this make every row diverge at its first update (a typo such
// as 1e30 for 1e-3): refused rather than trained into NaNs.
constexpr float kMaxLearningRate = 1000.0f;

Status CheckRate(const OptimizerConfig& c, const char* field, float value) {
  return value > 0.0f && value <= kMaxLearningRate ? Status::OK() : BadValue(c, field, "in (0, 1000]", value);
}

Status CheckNonNegative(const OptimizerConfig& c, const char* field, float value) {
  return value >= 0.0f ? Status::OK() : BadValue(c, field, ">= 0", value);
}

// Decay rates: beta = 1 would never forget and makes Adam's bias correction
// 1 / (1 - 1) infinite.
Status CheckDecayRate(const OptimizerConfig& c, const char* field, float value) {
  return value >= 0.0f && value < 1.0f ? Status::OK() : BadValue(c, field, "in [0, 1)", value);
}

Status CheckOptimizerSpecific(const OptimizerConfig& c) {
  if (c.name == "adagrad" || c.name == "rowwise_adagrad") {
    RETURN_IF_ERROR(CheckNonNegative(c, "factor_learning_rate", c.factor_learning_rate));
    if (c.factor_learning_rate > kMaxLearningRate) {
      return BadValue(c, "factor_learning_rate", "<= 1000", c.factor_learning_rate);
    }
    return CheckPositive(c, "initial_accumulator", c.initial_accumulator);
  }
  if (c.factor_learning_rate != 0.0f) {
    return InvalidArgument("optimizer '" + c.name +
                           "': factor_learning_rate is supported by adagrad and rowwise_adagrad only");
  }
  if (c.name == "adam") {
    RETURN_IF_ERROR(CheckDecayRate(c, "beta1", c.beta1));
    RETURN_IF_ERROR(CheckDecayRate(c, "beta2", c.beta2));
    return CheckPositive(c, "epsilon", c.epsilon);
  }
  if (c.name == "ftrl") {
    RETURN_IF_ERROR(CheckNonNegative(c, "l1", c.l1));
    // beta > 0 keeps the denominator (beta + sqrt(n)) / alpha + l2 positive
    // even when a tiny gradient's square underflows and leaves n at 0.
    return CheckPositive(c, "ftrl_beta", c.ftrl_beta);
  }
  return Status::OK();
}

}  // namespace

Status ValidateOptimizerConfig(const OptimizerConfig& c) {
  if (FindOptimizer(c.name) == nullptr) {
    return InvalidArgument("unknown optimizer '" + c.name + "' (valid: " + ValidNames() + ")");
  }
  RETURN_IF_ERROR(CheckAllFinite(c));
  RETURN_IF_ERROR(CheckRate(c, "learning_rate", c.learning_rate));
  RETURN_IF_ERROR(CheckNonNegative(c, "l2", c.l2));
  RETURN_IF_ERROR(CheckNonNegative(c, "clip_norm", c.clip_norm));
  return CheckOptimizerSpecific(c);
}

StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& c) {
  RETURN_IF_ERROR(ValidateOptimizerConfig(c));
  return FindOptimizer(c.name)->make(c);
}

}  // namespace embedps::ps
