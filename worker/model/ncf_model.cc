#include "worker/model/ncf_model.h"

namespace embedps::worker {

namespace {
using RowVec = Eigen::Map<const Eigen::RowVectorXf>;
using MutRowVec = Eigen::Map<Eigen::RowVectorXf>;

std::vector<int> TowerSizes(const NcfOptions& o) {
  std::vector<int> sizes = {static_cast<int>(2 * o.factors)};
  sizes.insert(sizes.end(), o.hidden.begin(), o.hidden.end());
  return sizes;
}
}  // namespace

NcfModel::NcfModel(const NcfOptions& o)
    : o_(o),
      tower_(TowerSizes(o), "ncf_mlp_", /*relu_output=*/true),
      head_({static_cast<int>(o.factors) + (o.hidden.empty() ? static_cast<int>(2 * o.factors) : o.hidden.back()), 1},
            "ncf_out_") {
  tables_.push_back(ModelTable{"ncf_embed", 2 * o_.factors, "normal", o_.init_scale});
  tower_first_ = tables_.size();
  tables_.insert(tables_.end(), tower_.tables().begin(), tower_.tables().end());
  head_first_ = tables_.size();
  tables_.insert(tables_.end(), head_.tables().begin(), head_.tables().end());
}

void NcfModel::Prepare(const std::vector<data::Example>& batch) { index_.Build(batch); }

const std::vector<uint64_t>& NcfModel::Keys(size_t table) const {
  if (table == 0) return index_.keys();
  if (table < head_first_) return tower_.Keys(table - tower_first_);
  return head_.Keys(table - head_first_);
}

void NcfModel::UserItemSlots(const data::Example& ex, size_t i, uint32_t* user, uint32_t* item) const {
  const uint32_t* slots = index_.slots(i);
  *user = *item = slots[0];
  bool seen_user = false, seen_item = false;
  for (size_t j = 0; j < ex.keys.size(); ++j) {
    if (ex.fields[j] == 0 && !seen_user) *user = slots[j], seen_user = true;
    if (ex.fields[j] == 1 && !seen_item) *item = slots[j], seen_item = true;
  }
}

const RowMatrix& NcfModel::Forward(const std::vector<data::Example>& batch, const TableRows& rows) {
  const Eigen::Index n = static_cast<Eigen::Index>(batch.size()), k = o_.factors;
  const float* e = rows[0].data();
  user_slot_.resize(n);
  item_slot_.resize(n);
  tower_in_.resize(n, 2 * k);
  // The head reads [GMF's product | the tower's output]: the product goes
  // straight into its left columns.
  head_in_.resize(n, k + tower_.output_size());
  for (Eigen::Index i = 0; i < n; ++i) {
    UserItemSlots(batch[i], i, &user_slot_[i], &item_slot_[i]);
    const float* u = e + size_t{user_slot_[i]} * 2 * k;
    const float* v = e + size_t{item_slot_[i]} * 2 * k;
    head_in_.row(i).head(k) = RowVec(u, k).cwiseProduct(RowVec(v, k));
    tower_in_.row(i) << RowVec(u + k, k), RowVec(v + k, k);
  }
  head_in_.rightCols(tower_.output_size()) = tower_.Forward(tower_in_, rows, tower_first_);
  return head_.Forward(head_in_, rows, head_first_);
}

double NcfModel::Step(const std::vector<data::Example>& batch, const TableRows& rows,
                      TableRows* grads) {
  const Eigen::Index n = static_cast<Eigen::Index>(batch.size()), k = o_.factors;
  grads->resize(rows.size());
  (*grads)[0].assign(rows[0].size(), 0.0f);  // the MLPs write their tables' gradients whole
  const RowMatrix& logits = Forward(batch, rows);
  d_logit_.resize(n, 1);
  double loss = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    d_logit_(i, 0) = ObjectiveGradient(Objective::kBinary, logits(i, 0), batch[i].label, &loss);
  }
  const RowMatrix& d_head_in = head_.Backward(d_logit_, rows, head_first_, grads);
  d_tower_out_ = d_head_in.rightCols(d_head_in.cols() - k);
  const RowMatrix& d_tower_in = tower_.Backward(d_tower_out_, rows, tower_first_, grads);
  const float* e = rows[0].data();
  float* g = (*grads)[0].data();
  for (Eigen::Index i = 0; i < n; ++i) {
    const size_t ua = size_t{user_slot_[i]} * 2 * k, va = size_t{item_slot_[i]} * 2 * k;
    const auto d_gmf = d_head_in.row(i).head(k);
    MutRowVec(g + ua, k) += d_gmf.cwiseProduct(RowVec(e + va, k));
    MutRowVec(g + va, k) += d_gmf.cwiseProduct(RowVec(e + ua, k));
    MutRowVec(g + ua + k, k) += d_tower_in.row(i).head(k);
    MutRowVec(g + va + k, k) += d_tower_in.row(i).tail(k);
    if (o_.l2 > 0) {
      MutRowVec(g + ua, 2 * k) += o_.l2 * RowVec(e + ua, 2 * k);
      MutRowVec(g + va, 2 * k) += o_.l2 * RowVec(e + va, 2 * k);
    }
  }
  return loss;
}

void NcfModel::Predict(const std::vector<data::Example>& batch, const TableRows& rows,
                       std::vector<float>* scores) {
  const RowMatrix& logits = Forward(batch, rows);
  scores->resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    (*scores)[i] = ObjectiveOutput(Objective::kBinary, logits(static_cast<Eigen::Index>(i), 0), 0, 0);
  }
}

}  // namespace embedps::worker
