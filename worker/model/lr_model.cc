#include "worker/model/lr_model.h"

#include <cmath>

namespace embedps::worker {

namespace {
constexpr int kKeys = data::kCriteoKeysPerExample;
}  // namespace

void LrModel::Prepare(const std::vector<data::CriteoExample>& batch) {
  dedup_.Reset(batch.size() * kKeys);
  slots_.resize(batch.size() * kKeys);
  for (size_t i = 0; i < batch.size(); ++i) {
    for (int j = 0; j < kKeys; ++j) slots_[i * kKeys + j] = dedup_.Insert(batch[i].keys[j]);
  }
}

double LrModel::Step(const std::vector<data::CriteoExample>& batch,
                     const std::vector<float>& weights, std::vector<float>* grads) {
  const Eigen::Index n = static_cast<Eigen::Index>(batch.size());
  logits_.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    float z = 0;
    const uint32_t* s = &slots_[i * kKeys];
    for (int j = 0; j < kKeys; ++j) z += weights[s[j]];
    logits_[i] = z;
  }
  Eigen::VectorXf labels(n);
  for (Eigen::Index i = 0; i < n; ++i) labels[i] = batch[i].label;
  // p = sigmoid(z); d(logloss)/dz = p - y; loss = softplus(z) - y*z (stable form).
  const Eigen::ArrayXf z = logits_.array();
  const Eigen::ArrayXf p = 1.0f / (1.0f + (-z).exp());
  const Eigen::ArrayXf dz = p - labels.array();
  const Eigen::ArrayXf softplus = z.max(0.0f) + (1.0f + (-z.abs()).exp()).log();
  const double loss = (softplus - labels.array() * z).cast<double>().sum();

  grads->assign(weights.size(), 0.0f);
  for (Eigen::Index i = 0; i < n; ++i) {
    const uint32_t* s = &slots_[i * kKeys];
    for (int j = 0; j < kKeys; ++j) (*grads)[s[j]] += dz[i];
  }
  return loss;
}

}  // namespace embedps::worker
