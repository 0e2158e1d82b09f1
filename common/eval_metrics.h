// Binary classification metrics shared by the workers' evaluation, the data
// generator's oracle report and the reference trainer used by tests.
#pragma once

#include <cmath>
#include <vector>

namespace embedps {

// ROC AUC with ties given half credit (average ranks); a label > 0.5 counts as
// positive. Returns 0.5 if one class is absent. NaN scores rank lowest.
// O(n log n): one sort of (score, label) pairs.
double RocAuc(const std::vector<float>& scores, const std::vector<float>& labels);

// Mean binary log loss with probabilities clipped to [1e-7, 1-1e-7]; 0 for no
// examples.
double LogLoss(const std::vector<float>& probs, const std::vector<float>& labels);

// Numerically stable log loss of one example from a logit; no clipping is
// needed because log(1 + e^x) is evaluated without forming the probability.
double LogLossFromLogit(double logit, float label);

// Logistic function that never evaluates exp() of a large positive number.
inline float Sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

}  // namespace embedps
