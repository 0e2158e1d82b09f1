// Top-K recommendation from an exported model: score every catalog item a
// user has not interacted with and keep the K best.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "worker/data/side_features.h"
#include "worker/eval/exported_model.h"
#include "worker/eval/interactions.h"

namespace embedps::worker {

struct ScoredItem {
  uint64_t item = 0;
  float score = 0;
};

// The k highest-scoring items (all when fewer), best first; equal scores
// go to the smaller item id and NaN scores last, so the answer does not
// depend on the order of `items`. `scores[i]` scores `items[i]`.
std::vector<ScoredItem> TopK(const std::vector<uint64_t>& items, const std::vector<float>& scores, size_t k);

// Scores (user, item) for every item through the model, as a rating file's
// line for that pair would be scored (side features of `side` appended).
// Not thread-safe (see ExportedModel::Score).
void ScoreUserItems(ExportedModel& model, const data::SideFeatures* side, uint64_t user,
                    const std::vector<uint64_t>& items, std::vector<float>* scores);

// The items of `catalog` (sorted) that `user` has no interaction with in
// `seen`, sorted.
std::vector<uint64_t> UnseenItems(const std::vector<uint64_t>& catalog, const Interactions& seen, uint64_t user);

// Borrows all three; not thread-safe (one request at a time).
class Recommender {
 public:
  Recommender(ExportedModel& model, const Interactions& seen, const data::SideFeatures* side)
      : model_(model), seen_(seen), side_(side) {}

  // The top k unseen items of `user`. NotFound for a user without any
  // interaction (the model knows nothing of them).
  StatusOr<std::vector<ScoredItem>> Recommend(uint64_t user, size_t k);

 private:
  ExportedModel& model_;
  const Interactions& seen_;
  const data::SideFeatures* side_;
  std::vector<float> scores_;
};

}  // namespace embedps::worker
