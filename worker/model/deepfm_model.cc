#include "worker/model/deepfm_model.h"

#include <algorithm>

namespace embedps::worker {

namespace {
std::vector<int> MlpSizes(const DeepFmOptions& o) {
  std::vector<int> sizes = {static_cast<int>(o.fields * o.fm.factors + o.dense_features)};
  sizes.insert(sizes.end(), o.hidden.begin(), o.hidden.end());
  sizes.push_back(1);
  return sizes;
}
}  // namespace

DeepFmModel::DeepFmModel(const DeepFmOptions& o) : o_(o), fm_(o.fm), mlp_(MlpSizes(o), "mlp_") {
  tables_ = fm_.tables();
  tables_.insert(tables_.end(), mlp_.tables().begin(), mlp_.tables().end());
}

void DeepFmModel::Prepare(const std::vector<data::Example>& batch) {
  index_.Build(batch, {GlobalBiasKey()});
}

const std::vector<uint64_t>& DeepFmModel::Keys(size_t table) const {
  return table == 0 ? index_.keys() : mlp_.Keys(table - 1);
}

void DeepFmModel::Forward(const std::vector<data::Example>& batch, const TableRows& rows) {
  const uint32_t k = o_.fm.factors, dim = k + 1;
  const float* r = rows[0].data();
  deep_input_.setZero(static_cast<Eigen::Index>(batch.size()), mlp_.input_size());
  wide_.resize(batch.size());
  fm_sums_.resize(batch.size() * k);
  for (size_t i = 0; i < batch.size(); ++i) {
    const data::Example& ex = batch[i];
    const uint32_t* slots = index_.slots(i);
    wide_[i] = r[0] + fm_.Forward(ex, slots, r);
    std::copy(fm_.last_sum().begin(), fm_.last_sum().end(), fm_sums_.begin() + i * k);
    auto in = deep_input_.row(static_cast<Eigen::Index>(i));
    for (size_t j = 0; j < ex.keys.size(); ++j) {
      const uint32_t f = ex.fields[j] - o_.first_field;  // wraps for fields below first_field
      if (f >= o_.fields) continue;
      in.segment(f * k, k) +=
          ex.values[j] * Eigen::Map<const Eigen::RowVectorXf>(r + size_t{slots[j]} * dim + 1, k);
    }
    const size_t dense = std::min<size_t>(ex.dense.size(), o_.dense_features);
    for (size_t d = 0; d < dense; ++d) in[o_.fields * k + d] = o_.dense_scale * ex.dense[d];
  }
}

double DeepFmModel::Step(const std::vector<data::Example>& batch, const TableRows& rows,
                         TableRows* grads) {
  const uint32_t k = o_.fm.factors, dim = k + 1;
  grads->resize(rows.size());
  (*grads)[0].assign(rows[0].size(), 0.0f);  // the MLP writes its tables' gradients whole
  Forward(batch, rows);
  const RowMatrix& deep = mlp_.Forward(deep_input_, rows, 1);
  RowMatrix d_out(deep.rows(), 1);
  double loss = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    d_out(i, 0) = ObjectiveGradient(objective(), wide_[i] + deep(i, 0), batch[i].label, &loss);
  }
  const RowMatrix& d_in = mlp_.Backward(d_out, rows, 1, grads);
  const float* r = rows[0].data();
  float* g = (*grads)[0].data();
  for (size_t i = 0; i < batch.size(); ++i) {
    const data::Example& ex = batch[i];
    const uint32_t* slots = index_.slots(i);
    const float dy = d_out(i, 0);
    g[0] += dy;
    fm_.BackwardWithSum(ex, slots, r, dy, g, fm_sums_.data() + i * k);
    for (size_t j = 0; j < ex.keys.size(); ++j) {
      const uint32_t f = ex.fields[j] - o_.first_field;
      if (f >= o_.fields) continue;
      Eigen::Map<Eigen::RowVectorXf>(g + size_t{slots[j]} * dim + 1, k) +=
          ex.values[j] * d_in.row(static_cast<Eigen::Index>(i)).segment(f * k, k);
    }
    fm_.AddL2(ex, slots, r, g);
  }
  return loss;
}

void DeepFmModel::Predict(const std::vector<data::Example>& batch, const TableRows& rows,
                          std::vector<float>* scores) {
  Forward(batch, rows);
  const RowMatrix& deep = mlp_.Forward(deep_input_, rows, 1);
  scores->resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    (*scores)[i] = ObjectiveOutput(objective(), wide_[i] + deep(i, 0), o_.fm.min_rating, o_.fm.max_rating);
  }
}

}  // namespace embedps::worker
