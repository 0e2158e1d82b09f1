#include "common/rating_metrics.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace embedps {

double Rmse(const std::vector<float>& predictions, const std::vector<float>& targets) {
  if (predictions.empty()) return 0;
  double sum = 0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const double d = double{predictions[i]} - targets[i];
    sum += d * d;
  }
  return std::sqrt(sum / predictions.size());
}

double MeanAbsoluteError(const std::vector<float>& predictions, const std::vector<float>& targets) {
  if (predictions.empty()) return 0;
  double sum = 0;
  for (size_t i = 0; i < predictions.size(); ++i) sum += std::fabs(double{predictions[i]} - targets[i]);
  return sum / predictions.size();
}

double RankAmong(float positive_score, const std::vector<float>& others) {
  double rank = 0;
  for (float s : others) {
    if (s > positive_score) rank += 1;
    else if (s == positive_score) rank += 0.5;
  }
  return rank;
}

double HitAtK(double rank, size_t k) { return rank < static_cast<double>(k) ? 1.0 : 0.0; }

double NdcgAtK(double rank, size_t k) {
  return rank < static_cast<double>(k) ? 1.0 / std::log2(rank + 2.0) : 0.0;
}

namespace {
size_t HitsInTopK(const std::vector<uint64_t>& ranked, const std::vector<uint64_t>& relevant, size_t k) {
  const std::unordered_set<uint64_t> wanted(relevant.begin(), relevant.end());
  size_t hits = 0;
  for (size_t i = 0; i < std::min(k, ranked.size()); ++i) hits += wanted.count(ranked[i]);
  return hits;
}
}  // namespace

double PrecisionAtK(const std::vector<uint64_t>& ranked, const std::vector<uint64_t>& relevant, size_t k) {
  return k == 0 ? 0.0 : static_cast<double>(HitsInTopK(ranked, relevant, k)) / k;
}

double RecallAtK(const std::vector<uint64_t>& ranked, const std::vector<uint64_t>& relevant, size_t k) {
  return relevant.empty() ? 0.0 : static_cast<double>(HitsInTopK(ranked, relevant, k)) / relevant.size();
}

}  // namespace embedps
