#include <algorithm>

#include "common/eval_metrics.h"
#include "worker/model/model.h"

namespace embedps::worker {

float ObjectiveGradient(Objective objective, float y, float label, double* loss) {
  if (objective == Objective::kBinary) {
    *loss += LogLossFromLogit(y, label);
    return Sigmoid(y) - label;
  }
  const float d = y - label;
  *loss += double{d} * d;
  return d;
}

const char* ObjectiveLossName(Objective objective) {
  return objective == Objective::kBinary ? "logloss" : "squared_error";
}

float ObjectiveOutput(Objective objective, float y, float min_rating, float max_rating) {
  return objective == Objective::kBinary ? Sigmoid(y) : std::clamp(y, min_rating, max_rating);
}

}  // namespace embedps::worker
