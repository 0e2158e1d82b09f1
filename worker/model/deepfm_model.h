// DeepFM (Guo et al. 2017): a factorization machine and an MLP that share
// the field embeddings.
//
//   y = mu + FM(x) + MLP([v_field_0, ..., v_field_{F-1}, dense features])
//
// The FM part is FmModel's (one "factors" table, rows [w, v]); the MLP reads
// the concatenation of each field's embedding (the sum of the field's
// feature vectors times their values, for multi-hot fields) and the
// example's dense features times dense_scale, and its weights are dense
// server tables.
#pragma once

#include "worker/model/factor_models.h"
#include "worker/model/mlp.h"

namespace embedps::worker {

struct DeepFmOptions {
  FactorModelOptions fm;
  // Fields first_field..first_field+fields-1 feed the MLP (features of
  // other fields only the FM).
  uint32_t first_field = 0;
  uint32_t fields = 40;
  uint32_t dense_features = 13;
  float dense_scale = 1.0f;  // multiplies the dense features fed to the MLP
  std::vector<int> hidden = {400, 400, 400};
};

class DeepFmModel : public Model {
 public:
  explicit DeepFmModel(const DeepFmOptions& o);
  std::string name() const override { return "deepfm"; }
  Objective objective() const override { return o_.fm.objective; }
  const std::vector<ModelTable>& tables() const override { return tables_; }
  void Prepare(const std::vector<data::Example>& batch) override;
  const std::vector<uint64_t>& Keys(size_t table) const override;
  double Step(const std::vector<data::Example>& batch, const TableRows& rows,
              TableRows* grads) override;
  void Predict(const std::vector<data::Example>& batch, const TableRows& rows,
               std::vector<float>* scores) override;

 private:
  // Fills deep_input_ and wide_ (mu + FM term) for every example.
  void Forward(const std::vector<data::Example>& batch, const TableRows& rows);

  DeepFmOptions o_;
  FmModel fm_;
  Mlp mlp_;
  std::vector<ModelTable> tables_;
  BatchIndex index_;
  RowMatrix deep_input_;
  std::vector<float> wide_;     // mu + FM term per example
  std::vector<float> fm_sums_;  // per example, the FM's sum_j x_j v_j (k floats) for its backward pass
};

}  // namespace embedps::worker
