// Factorization models over one table whose row for a key is
// [linear weight, k factors]:
//
//   FmModel:  y = mu + sum_j w_j x_j + sum_{j<l} <v_j, v_l> x_j x_l
//             (a factorization machine over every feature of the example).
//   MfModel:  y = mu + sum_j w_j x_j + <sum_{j in user} v_j x_j, sum_{l in item} v_l x_l>
//             (biased matrix factorization; with side features as extra
//             user- or item-side fields it is the hybrid content +
//             collaborative model: a user's vector is the sum of its id's and
//             its attributes' vectors, and likewise for items).
//
// mu is the linear weight of a global key every batch reads. L2
// regularization (lambda) is added to the gradient of every row each time an
// example uses it, the classic per-occurrence form for sparse data.
#pragma once

#include <set>

#include "worker/model/batch_index.h"
#include "worker/model/model.h"

namespace embedps::worker {

struct FactorModelOptions {
  uint32_t factors = 16;
  float l2 = 0.0f;       // on the factors
  float bias_l2 = 0.0f;  // on the linear weights (per-user, per-item biases)
  float init_scale = 0.01f;  // std-dev of the initial factors
  Objective objective = Objective::kBinary;
  // kRating: predictions are clipped to [min_rating, max_rating].
  float min_rating = 1.0f;
  float max_rating = 5.0f;
  // MfModel: fields on the item side of the dot product; every other field
  // is on the user side.
  std::set<uint16_t> item_fields = {1};
};

// The key holding mu. Field namespaces keep it apart from every feature key.
uint64_t GlobalBiasKey();

class FactorModelBase : public Model {
 public:
  explicit FactorModelBase(const FactorModelOptions& o);
  Objective objective() const override { return o_.objective; }
  const std::vector<ModelTable>& tables() const override { return tables_; }
  void Prepare(const std::vector<data::Example>& batch) override;
  const std::vector<uint64_t>& Keys(size_t) const override { return index_.keys(); }
  double Step(const std::vector<data::Example>& batch, const TableRows& rows,
              TableRows* grads) override;
  void Predict(const std::vector<data::Example>& batch, const TableRows& rows,
               std::vector<float>* scores) override;

  // Per-example parts, also used by models that add terms (DeepFM). Rows
  // are [linear weight, factors] of the slots' keys.
  //
  // The score of one example without mu; caches what Backward needs.
  virtual float Forward(const data::Example& ex, const uint32_t* slots, const float* rows) = 0;
  // Adds g * d(score)/d(row) for every row the last Forward used.
  virtual void Backward(const data::Example& ex, const uint32_t* slots, const float* rows, float g,
                        float* grads) = 0;
  // Adds the L2 terms of the rows example `ex` uses into grads.
  void AddL2(const data::Example& ex, const uint32_t* slots, const float* rows, float* grads) const;
  uint32_t row_dim() const { return o_.factors + 1; }

 protected:
  FactorModelOptions o_;

 private:
  std::vector<ModelTable> tables_;
  BatchIndex index_;
};

class FmModel : public FactorModelBase {
 public:
  using FactorModelBase::FactorModelBase;
  std::string name() const override { return "fm"; }
  float Forward(const data::Example& ex, const uint32_t* slots, const float* rows) override;
  void Backward(const data::Example& ex, const uint32_t* slots, const float* rows, float g,
                float* grads) override;
  // The same with the example's sum_j x_j v_j given (k floats), for callers
  // that keep each example's from Forward (last_sum()) instead of running
  // Forward again.
  void BackwardWithSum(const data::Example& ex, const uint32_t* slots, const float* rows, float g, float* grads,
                       const float* sum) const;
  const std::vector<float>& last_sum() const { return sum_; }

 private:
  std::vector<float> sum_;  // sum_j x_j v_j of the last Forward
};

class MfModel : public FactorModelBase {
 public:
  MfModel(const FactorModelOptions& o, std::string name) : FactorModelBase(o), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  float Forward(const data::Example& ex, const uint32_t* slots, const float* rows) override;
  void Backward(const data::Example& ex, const uint32_t* slots, const float* rows, float g,
                float* grads) override;

 private:
  bool ItemSide(uint16_t field) const { return o_.item_fields.count(field) > 0; }
  std::string name_;
  std::vector<float> user_, item_;  // the two sides' summed vectors of the last Forward
};

}  // namespace embedps::worker
