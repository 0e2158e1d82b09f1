// Neural collaborative filtering, NeuMF (He et al. 2017): a generalized MF
// branch (p_u ⊙ q_i) and an MLP branch over [p'_u, q'_i], concatenated into
// one logistic output. Trained on implicit feedback: every observed
// (user, item) is a positive, and sampled unobserved items are negatives
// (see NegativeSampler).
//
// One "ncf_embed" table holds both branches' vectors of a key,
// [GMF k | MLP k]; users are field 0 and items field 1 of an example.
#pragma once

#include "worker/model/batch_index.h"
#include "worker/model/mlp.h"
#include "worker/model/model.h"

namespace embedps::worker {

struct NcfOptions {
  uint32_t factors = 16;
  std::vector<int> hidden = {64, 32, 16};
  float l2 = 0.0f;
  float init_scale = 0.01f;
};

class NcfModel : public Model {
 public:
  explicit NcfModel(const NcfOptions& o);
  std::string name() const override { return "ncf"; }
  Objective objective() const override { return Objective::kBinary; }
  const std::vector<ModelTable>& tables() const override { return tables_; }
  void Prepare(const std::vector<data::Example>& batch) override;
  const std::vector<uint64_t>& Keys(size_t table) const override;
  double Step(const std::vector<data::Example>& batch, const TableRows& rows,
              TableRows* grads) override;
  void Predict(const std::vector<data::Example>& batch, const TableRows& rows,
               std::vector<float>* scores) override;

 private:
  // Slots of example i's user and item rows (first feature of field 0 and 1).
  void UserItemSlots(const data::Example& ex, size_t i, uint32_t* user, uint32_t* item) const;
  // Builds the head's input for the batch and returns the logits.
  const RowMatrix& Forward(const std::vector<data::Example>& batch, const TableRows& rows);

  NcfOptions o_;
  Mlp tower_;
  Mlp head_;
  size_t tower_first_, head_first_;  // table index of each MLP's first table
  std::vector<ModelTable> tables_;
  BatchIndex index_;
  RowMatrix tower_in_, head_in_;
  RowMatrix d_logit_, d_tower_out_;
  std::vector<uint32_t> user_slot_, item_slot_;
};

}  // namespace embedps::worker
