// Sparse logistic regression over hashed features: the logit of an example is
// the sum of weight(key) * value over its features (dim 1; for Criteo the bias
// is one of the keys). A batch step maps keys to unique slots, computes
// predictions with Eigen, and produces the gradient of the summed log loss per
// unique key.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "worker/data/example.h"
#include "worker/model/key_dedup.h"

namespace embedps::worker {

class LrModel {
 public:
  // Indexes the keys of `batch`; afterwards unique_keys() lists what to pull.
  void Prepare(const std::vector<data::Example>& batch);
  const std::vector<uint64_t>& unique_keys() const { return dedup_.unique_keys(); }

  // Given weights[unique_keys().size()], writes the summed gradient of each
  // unique key into *grads and returns the summed log loss of the batch.
  // `batch` must be the one passed to Prepare.
  double Step(const std::vector<data::Example>& batch, const std::vector<float>& weights,
              std::vector<float>* grads);

 private:
  KeyDedup dedup_;
  // slots_[offsets_[i] + j]: unique slot of feature j of example i.
  std::vector<uint32_t> slots_;
  std::vector<size_t> offsets_;
  bool one_hot_ = true;  // every value of the batch is 1
  Eigen::VectorXf logits_;
};

// The logit of one example given its key weights, for evaluation.
template <typename Lookup>
float LrLogit(const data::Example& ex, const Lookup& weight_of) {
  float z = 0;
  for (size_t j = 0; j < ex.keys.size(); ++j) z += weight_of(ex.keys[j]) * ex.values[j];
  return z;
}

}  // namespace embedps::worker
