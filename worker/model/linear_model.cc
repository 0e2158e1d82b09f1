#include "worker/model/linear_model.h"

#include <algorithm>

namespace embedps::worker {

LinearModel::LinearModel(Objective objective, float min_rating, float max_rating)
    : objective_(objective), min_rating_(min_rating), max_rating_(max_rating) {
  tables_.push_back(ModelTable{"weights", 1, "zeros", 0.0f});
}

void LinearModel::Prepare(const std::vector<data::Example>& batch) {
  index_.Build(batch);
  one_hot_ = std::all_of(batch.begin(), batch.end(), [](const data::Example& ex) {
    return std::all_of(ex.values.begin(), ex.values.end(), [](float v) { return v == 1.0f; });
  });
}

template <bool kOneHot>
float LinearModel::Score(const data::Example& ex, const uint32_t* slots, const float* w) const {
  float z = 0;
  for (size_t j = 0; j < ex.keys.size(); ++j) z += kOneHot ? w[slots[j]] : w[slots[j]] * ex.values[j];
  return z;
}

template <bool kOneHot>
double LinearModel::StepImpl(const std::vector<data::Example>& batch, const float* w, float* g) const {
  double loss = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const data::Example& ex = batch[i];
    const uint32_t* slots = index_.slots(i);
    const float dz = ObjectiveGradient(objective_, Score<kOneHot>(ex, slots, w), ex.label, &loss);
    for (size_t j = 0; j < ex.keys.size(); ++j) g[slots[j]] += kOneHot ? dz : dz * ex.values[j];
  }
  return loss;
}

double LinearModel::Step(const std::vector<data::Example>& batch, const TableRows& rows,
                         TableRows* grads) {
  grads->resize(1);
  std::vector<float>& g = (*grads)[0];
  g.assign(rows[0].size(), 0.0f);
  return one_hot_ ? StepImpl<true>(batch, rows[0].data(), g.data())
                  : StepImpl<false>(batch, rows[0].data(), g.data());
}

void LinearModel::Predict(const std::vector<data::Example>& batch, const TableRows& rows,
                          std::vector<float>* scores) {
  scores->resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    (*scores)[i] = ObjectiveOutput(objective_, Score<false>(batch[i], index_.slots(i), rows[0].data()),
                                   min_rating_, max_rating_);
  }
}

}  // namespace embedps::worker
