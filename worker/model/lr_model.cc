#include "worker/model/lr_model.h"

#include <algorithm>
#include <cmath>

namespace embedps::worker {
namespace {

// Sum of weight * value per example, and the scatter of the gradient back to
// the slots. kOneHot: every value is 1, so the values are never loaded; this
// is the Criteo case, where reading them would add a memory stream per row.
// (w * 1.0f == w exactly, so both paths give the same sums on one-hot data.)
template <bool kOneHot>
void Logits(const std::vector<data::Example>& batch, const uint32_t* slots, const size_t* offsets,
            const float* w, Eigen::VectorXf* logits) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const uint32_t* s = slots + offsets[i];
    const float* v = batch[i].values.data();
    const size_t k = offsets[i + 1] - offsets[i];
    float z = 0;
    for (size_t j = 0; j < k; ++j) z += kOneHot ? w[s[j]] : w[s[j]] * v[j];
    (*logits)[static_cast<Eigen::Index>(i)] = z;
  }
}

template <bool kOneHot>
void Scatter(const std::vector<data::Example>& batch, const uint32_t* slots, const size_t* offsets,
             const Eigen::ArrayXf& dz, float* __restrict__ g) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const uint32_t* __restrict__ s = slots + offsets[i];
    const float* __restrict__ v = batch[i].values.data();
    const size_t k = offsets[i + 1] - offsets[i];
    const float d = dz[static_cast<Eigen::Index>(i)];
    for (size_t j = 0; j < k; ++j) g[s[j]] += kOneHot ? d : d * v[j];
  }
}

}  // namespace

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
  one_hot_ = true;
  for (size_t i = 0; i < batch.size(); ++i) {
    uint32_t* s = &slots_[offsets_[i]];
    for (uint64_t key : batch[i].keys) *s++ = dedup_.Insert(key);
    const auto& v = batch[i].values;
    one_hot_ = one_hot_ && std::all_of(v.begin(), v.end(), [](float x) { return x == 1.0f; });
  }
}

double LrModel::Step(const std::vector<data::Example>& batch, const std::vector<float>& weights,
                     std::vector<float>* grads) {
  const Eigen::Index n = static_cast<Eigen::Index>(batch.size());
  logits_.resize(n);
  if (one_hot_) {
    Logits<true>(batch, slots_.data(), offsets_.data(), weights.data(), &logits_);
  } else {
    Logits<false>(batch, slots_.data(), offsets_.data(), weights.data(), &logits_);
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
  if (one_hot_) {
    Scatter<true>(batch, slots_.data(), offsets_.data(), dz, grads->data());
  } else {
    Scatter<false>(batch, slots_.data(), offsets_.data(), dz, grads->data());
  }
  return loss;
}

}  // namespace embedps::worker
