// Sparse logistic regression over hashed features: the logit of an example is
// the sum of the weights of its keys (dim 1; the bias is one of the keys).
// A batch step maps keys to unique slots, computes predictions with Eigen,
// and produces the gradient of the summed log loss per unique key.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "worker/data/criteo_parser.h"
#include "worker/model/key_dedup.h"

namespace embedps::worker {

class LrModel {
 public:
  // Indexes the keys of `batch`; afterwards unique_keys() lists what to pull.
  void Prepare(const std::vector<data::CriteoExample>& batch);
  const std::vector<uint64_t>& unique_keys() const { return dedup_.unique_keys(); }

  // Given weights[unique_keys().size()], writes the summed gradient of each
  // unique key into *grads and returns the summed log loss of the batch.
  double Step(const std::vector<data::CriteoExample>& batch, const std::vector<float>& weights,
              std::vector<float>* grads);

 private:
  KeyDedup dedup_;
  // slots_[i * K + j]: unique slot of key j of example i.
  std::vector<uint32_t> slots_;
  Eigen::VectorXf logits_;
};

// The logit of one example given its key weights, for evaluation.
template <typename Lookup>
float LrLogit(const data::CriteoExample& ex, const Lookup& weight_of) {
  float z = 0;
  for (uint64_t key : ex.keys) z += weight_of(key);
  return z;
}

}  // namespace embedps::worker
