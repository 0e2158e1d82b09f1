// Regression and top-K ranking metrics for recommendation: RMSE and MAE for
// explicit ratings; hit ratio, NDCG, precision and recall at K for ranked
// lists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedps {

// Root mean squared error; 0 for no examples.
double Rmse(const std::vector<float>& predictions, const std::vector<float>& targets);
// Mean absolute error; 0 for no examples.
double MeanAbsoluteError(const std::vector<float>& predictions, const std::vector<float>& targets);

// The 0-based rank of `positive_score` among candidates: how many of
// `others` score strictly higher, with ties split evenly (so a constant
// model ranks a positive in the middle, not first).
double RankAmong(float positive_score, const std::vector<float>& others);

// One held-out positive ranked against sampled negatives (the NCF protocol):
// a hit if its rank is < k, and NDCG = 1 / log2(rank + 2) when it is.
double HitAtK(double rank, size_t k);
double NdcgAtK(double rank, size_t k);

// A user's recommended list (top k) against the set of relevant items.
double PrecisionAtK(const std::vector<uint64_t>& ranked, const std::vector<uint64_t>& relevant, size_t k);
double RecallAtK(const std::vector<uint64_t>& ranked, const std::vector<uint64_t>& relevant, size_t k);

}  // namespace embedps
