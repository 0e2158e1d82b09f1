#include "worker/eval/recommender.h"

#include <algorithm>
#include <cmath>

#include "worker/data/rating_parser.h"

namespace embedps::worker {

std::vector<ScoredItem> TopK(const std::vector<uint64_t>& items, const std::vector<float>& scores, size_t k) {
  std::vector<ScoredItem> all(items.size());
  for (size_t i = 0; i < items.size(); ++i) all[i] = {items[i], scores[i]};
  auto better = [](const ScoredItem& a, const ScoredItem& b) {
    const bool a_nan = std::isnan(a.score), b_nan = std::isnan(b.score);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && a.score != b.score) return a.score > b.score;
    return a.item < b.item;
  };
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), better);
  all.resize(k);
  return all;
}

void ScoreUserItems(ExportedModel& model, const data::SideFeatures* side, uint64_t user,
                    const std::vector<uint64_t>& items, std::vector<float>* scores) {
  constexpr size_t kBatch = 4096;
  const uint64_t user_key = data::UserKey(user);
  std::vector<data::Example> batch;
  std::vector<float> batch_scores;
  scores->clear();
  scores->reserve(items.size());
  for (size_t begin = 0; begin < items.size(); begin += kBatch) {
    const size_t n = std::min(kBatch, items.size() - begin);
    batch.resize(n);
    for (size_t i = 0; i < n; ++i) {
      data::Example& ex = batch[i];
      ex.Clear();
      ex.user = user;
      ex.item = items[begin + i];
      ex.AddFeature(data::kUserField, user_key);
      ex.AddFeature(data::kItemField, data::ItemKey(ex.item));
    }
    model.Score(&batch, side, &batch_scores);
    scores->insert(scores->end(), batch_scores.begin(), batch_scores.end());
  }
}

std::vector<uint64_t> UnseenItems(const std::vector<uint64_t>& catalog, const Interactions& interactions,
                                  uint64_t user) {
  const std::vector<uint64_t>* seen = interactions.ItemsOf(user);
  if (seen == nullptr) return catalog;
  std::vector<uint64_t> out;
  out.reserve(catalog.size());
  std::set_difference(catalog.begin(), catalog.end(), seen->begin(), seen->end(), std::back_inserter(out));
  return out;
}

StatusOr<std::vector<ScoredItem>> Recommender::Recommend(uint64_t user, size_t k) {
  if (seen_.ItemsOf(user) == nullptr) {
    return NotFound("user " + std::to_string(user) + " has no interactions in the model's training data");
  }
  const std::vector<uint64_t> candidates = UnseenItems(seen_.items(), seen_, user);
  ScoreUserItems(model_, side_, user, candidates, &scores_);
  return TopK(candidates, scores_, k);
}

}  // namespace embedps::worker
