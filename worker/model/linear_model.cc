#include "worker/model/linear_model.h"

namespace embedps::worker {

LinearModel::LinearModel(Objective objective, float min_rating, float max_rating)
    : objective_(objective), min_rating_(min_rating), max_rating_(max_rating) {
  tables_.push_back(ModelTable{"weights", 1, "zeros", 0.0f});
}

float LinearModel::Score(const data::Example& ex, const uint32_t* slots, const float* w) const {
  float z = 0;
  for (size_t j = 0; j < ex.keys.size(); ++j) z += w[slots[j]] * ex.values[j];
  return z;
}

double LinearModel::Step(const std::vector<data::Example>& batch, const TableRows& rows,
                         TableRows* grads) {
  const float* w = rows[0].data();
  grads->resize(1);
  std::vector<float>& g = (*grads)[0];
  g.assign(rows[0].size(), 0.0f);
  double loss = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const data::Example& ex = batch[i];
    const uint32_t* slots = index_.slots(i);
    const float dz = ObjectiveGradient(objective_, Score(ex, slots, w), ex.label, &loss);
    for (size_t j = 0; j < ex.keys.size(); ++j) g[slots[j]] += dz * ex.values[j];
  }
  return loss;
}

void LinearModel::Predict(const std::vector<data::Example>& batch, const TableRows& rows,
                          std::vector<float>* scores) {
  scores->resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    (*scores)[i] = ObjectiveOutput(objective_, Score(batch[i], index_.slots(i), rows[0].data()),
                                   min_rating_, max_rating_);
  }
}

}  // namespace embedps::worker
