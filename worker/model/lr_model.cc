#include "worker/model/lr_model.h"

#include <cmath>

namespace embedps::worker {

void LrModel::Prepare(const std::vector<data::Example>& batch) {
  offsets_.resize(batch.size() + 1);
  size_t total = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    offsets_[i] = total;
    total += batch[i].keys.size();
  }
  offsets_[batch.size()] = total;
  dedup_.Reset(total);
  slots_.resize(total);
  for (size_t i = 0; i < batch.size(); ++i) {
    uint32_t* s = &slots_[offsets_[i]];
    for (uint64_t key : batch[i].keys) *s++ = dedup_.Insert(key);
  }
}

double LrModel::Step(const std::vector<data::Example>& batch, const std::vector<float>& weights,
                     std::vector<float>* grads) {
  const Eigen::Index n = static_cast<Eigen::Index>(batch.size());
  logits_.resize(n);
  // Values are 1 for one-hot features, and w * 1.0f == w exactly, so
  // one-hot data gives the same sums as adding the weights alone.
  for (Eigen::Index i = 0; i < n; ++i) {
    float z = 0;
    const uint32_t* s = &slots_[offsets_[i]];
    const float* v = batch[i].values.data();
    const size_t k = offsets_[i + 1] - offsets_[i];
    for (size_t j = 0; j < k; ++j) z += weights[s[j]] * v[j];
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
    const uint32_t* s = &slots_[offsets_[i]];
    const float* v = batch[i].values.data();
    const size_t k = offsets_[i + 1] - offsets_[i];
    for (size_t j = 0; j < k; ++j) (*grads)[s[j]] += dz[i] * v[j];
  }
  return loss;
}

}  // namespace embedps::worker
