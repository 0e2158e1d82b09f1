// Sparse logistic (or, for ratings, linear) regression as a Model: the score
// of an example is sum_j w_j x_j over its features, one "weights" table of
// dim 1 starting at zero. Readers that want a bias add a bias feature (the
// Criteo reader does).
#pragma once

#include "worker/model/batch_index.h"
#include "worker/model/model.h"

namespace embedps::worker {

class LinearModel : public Model {
 public:
  LinearModel(Objective objective, float min_rating = 1, float max_rating = 5);
  std::string name() const override { return "lr"; }
  Objective objective() const override { return objective_; }
  const std::vector<ModelTable>& tables() const override { return tables_; }
  void Prepare(const std::vector<data::Example>& batch) override;
  const std::vector<uint64_t>& Keys(size_t) const override { return index_.keys(); }
  double Step(const std::vector<data::Example>& batch, const TableRows& rows,
              TableRows* grads) override;
  void Predict(const std::vector<data::Example>& batch, const TableRows& rows,
               std::vector<float>* scores) override;

 private:
  // kOneHot: every value is 1 (Criteo), so values are never loaded; that
  // keeps the LR step as cheap as before values existed.
  template <bool kOneHot>
  float Score(const data::Example& ex, const uint32_t* slots, const float* w) const;
  template <bool kOneHot>
  double StepImpl(const std::vector<data::Example>& batch, const float* w, float* g) const;

  Objective objective_;
  float min_rating_, max_rating_;
  std::vector<ModelTable> tables_;
  BatchIndex index_;
  bool one_hot_ = true;  // of the prepared batch
};

}  // namespace embedps::worker
