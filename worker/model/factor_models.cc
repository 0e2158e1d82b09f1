#include "worker/model/factor_models.h"

#include <algorithm>

#include <Eigen/Core>

#include "common/hash.h"
#include "worker/model/fm_kernels.h"

namespace embedps::worker {

namespace {
using Vec = Eigen::Map<Eigen::VectorXf>;
using ConstVec = Eigen::Map<const Eigen::VectorXf>;
}  // namespace

uint64_t GlobalBiasKey() { return HashBytes("embedps.global_bias"); }

FactorModelBase::FactorModelBase(const FactorModelOptions& o) : o_(o) {
  tables_.push_back(ModelTable{"factors", o_.factors + 1, "normal", o_.init_scale, /*dense=*/false,
                               /*factor_row=*/true});
}

void FactorModelBase::Prepare(const std::vector<data::Example>& batch) {
  index_.Build(batch, {GlobalBiasKey()});
}

double FactorModelBase::Step(const std::vector<data::Example>& batch, const TableRows& rows,
                             TableRows* grads) {
  const float* r = rows[0].data();
  grads->resize(1);
  std::vector<float>& g = (*grads)[0];
  g.assign(rows[0].size(), 0.0f);
  const float mu = r[0];  // the global key has slot 0
  double loss = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const data::Example& ex = batch[i];
    const uint32_t* slots = index_.slots(i);
    const float dy = ObjectiveGradient(o_.objective, mu + Forward(ex, slots, r), ex.label, &loss);
    g[0] += dy;
    Backward(ex, slots, r, dy, g.data());
    AddL2(ex, slots, r, g.data());
  }
  return loss;
}

void FactorModelBase::AddL2(const data::Example& ex, const uint32_t* slots, const float* rows,
                            float* grads) const {
  if (o_.l2 == 0 && o_.bias_l2 == 0) return;
  const uint32_t dim = row_dim();
  for (size_t j = 0; j < ex.keys.size(); ++j) {
    const size_t at = size_t{slots[j]} * dim;
    grads[at] += o_.bias_l2 * rows[at];
    Vec(grads + at + 1, dim - 1) += o_.l2 * ConstVec(rows + at + 1, dim - 1);
  }
}

void FactorModelBase::Predict(const std::vector<data::Example>& batch, const TableRows& rows,
                              std::vector<float>* scores) {
  const float* r = rows[0].data();
  scores->resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const float y = r[0] + Forward(batch[i], index_.slots(i), r);
    (*scores)[i] = ObjectiveOutput(o_.objective, y, o_.min_rating, o_.max_rating);
  }
}

float FmModel::Forward(const data::Example& ex, const uint32_t* slots, const float* rows) {
  sum_.resize(o_.factors);
  return FmForward(FmExample{rows, row_dim(), slots, ex.values.data(), ex.keys.size()}, sum_.data());
}

void FmModel::Backward(const data::Example& ex, const uint32_t* slots, const float* rows, float g,
                       float* grads) {
  BackwardWithSum(ex, slots, rows, g, grads, sum_.data());
}

void FmModel::BackwardWithSum(const data::Example& ex, const uint32_t* slots, const float* rows, float g,
                              float* grads, const float* sum) const {
  FmBackward(FmExample{rows, row_dim(), slots, ex.values.data(), ex.keys.size()}, sum, g, grads);
}

float MfModel::Forward(const data::Example& ex, const uint32_t* slots, const float* rows) {
  const uint32_t dim = row_dim(), k = o_.factors;
  user_.assign(k, 0.0f);
  item_.assign(k, 0.0f);
  Vec user(user_.data(), k), item(item_.data(), k);
  float linear = 0;
  for (size_t j = 0; j < ex.keys.size(); ++j) {
    const float* row = rows + size_t{slots[j]} * dim;
    const float x = ex.values[j];
    linear += row[0] * x;
    (ItemSide(ex.fields[j]) ? item : user) += x * ConstVec(row + 1, k);
  }
  return linear + user.dot(item);
}

void MfModel::Backward(const data::Example& ex, const uint32_t* slots, const float* rows, float g,
                       float* grads) {
  (void)rows;
  const uint32_t dim = row_dim(), k = o_.factors;
  const ConstVec user(user_.data(), k), item(item_.data(), k);
  for (size_t j = 0; j < ex.keys.size(); ++j) {
    const size_t at = size_t{slots[j]} * dim;
    const float x = ex.values[j];
    grads[at] += g * x;
    // A user-side vector's gradient is the item side's sum, and vice versa.
    Vec(grads + at + 1, k) += (g * x) * (ItemSide(ex.fields[j]) ? user : item);
  }
}

}  // namespace embedps::worker
