#include "common/eval_metrics.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include <glog/logging.h>

namespace embedps {

double RocAuc(const std::vector<float>& scores, const std::vector<float>& labels) {
  CHECK_EQ(scores.size(), labels.size()) << "RocAuc: scores and labels differ in length";
  struct Item {
    float score;
    bool positive;
  };
  std::vector<Item> items;
  items.reserve(scores.size());
  uint64_t positives = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    // NaN would break the sort's strict weak ordering; rank it below all.
    const float s = std::isnan(scores[i]) ? -std::numeric_limits<float>::infinity() : scores[i];
    const bool pos = labels[i] > 0.5f;
    positives += pos;
    items.push_back({s, pos});
  }
  const uint64_t negatives = items.size() - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.score < b.score; });

  // Mann-Whitney U: each positive earns the number of negatives ranked below
  // it, plus half of the negatives tied with it.
  double credit = 0;
  uint64_t negatives_below = 0;
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    uint64_t group_pos = 0;
    while (j < items.size() && items[j].score == items[i].score) {
      group_pos += items[j].positive;
      ++j;
    }
    const uint64_t group_neg = (j - i) - group_pos;
    credit += static_cast<double>(group_pos) *
              (static_cast<double>(negatives_below) + 0.5 * static_cast<double>(group_neg));
    negatives_below += group_neg;
    i = j;
  }
  return credit / (static_cast<double>(positives) * static_cast<double>(negatives));
}

double LogLoss(const std::vector<float>& probs, const std::vector<float>& labels) {
  CHECK_EQ(probs.size(), labels.size()) << "LogLoss: probs and labels differ in length";
  if (probs.empty()) return 0;
  constexpr double kEps = 1e-7;
  double total = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double p = std::clamp(static_cast<double>(probs[i]), kEps, 1 - kEps);
    const double y = labels[i];
    total -= y * std::log(p) + (1 - y) * std::log1p(-p);
  }
  return total / static_cast<double>(probs.size());
}

double LogLossFromLogit(double logit, float label) {
  // -y*log(s(z)) - (1-y)*log(1-s(z)) == max(z,0) - y*z + log(1 + e^-|z|).
  return std::max(logit, 0.0) - static_cast<double>(label) * logit +
         std::log1p(std::exp(-std::abs(logit)));
}

}  // namespace embedps
