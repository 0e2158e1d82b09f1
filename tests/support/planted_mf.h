// A tiny exported MF model with known scores, for tests of the offline
// tools (recommend, predict, ranking evaluation): factors = 1, every row
// not listed reads as zeros, and
//   score(user, item) = global_bias + item_bias[item] + user_factor[user] * item_factor[item].
// The model directory also gets interactions.tsv with `seen`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace embedps::testing {

struct PlantedMf {
  float global_bias = 3.0f;
  std::map<uint64_t, float> item_bias;
  std::map<uint64_t, float> item_factor;
  std::map<uint64_t, float> user_factor;
  std::vector<std::pair<uint64_t, uint64_t>> seen;  // (user, item)

  // What the model predicts (unclipped).
  float Score(uint64_t user, uint64_t item) const;
};

// Writes model.json, one table file and interactions.tsv into `dir`
// (created when missing).
Status WritePlantedMf(const std::string& dir, const PlantedMf& model);

}  // namespace embedps::testing
