#include "worker/model/negative_sampler.h"

namespace embedps::worker {

NegativeSampler::NegativeSampler(uint32_t negatives, uint64_t seed, uint16_t item_field)
    : negatives_(negatives), item_field_(item_field), rng_(seed) {}

void NegativeSampler::Expand(std::vector<data::Example>* batch) {
  const size_t positives = batch->size();
  for (size_t i = 0; i < positives; ++i) {
    data::Example& ex = (*batch)[i];
    ex.label = 1.0f;
    for (size_t j = 0; j < ex.keys.size(); ++j) {
      if (ex.fields[j] == item_field_ && index_.emplace(ex.item, items_.size()).second) {
        items_.emplace_back(ex.item, ex.keys[j]);
      }
    }
  }
  if (items_.size() < 2 || negatives_ == 0) return;
  batch->reserve(positives * (1 + negatives_));
  std::uniform_int_distribution<size_t> pick(0, items_.size() - 1);
  for (size_t i = 0; i < positives; ++i) {
    for (uint32_t n = 0; n < negatives_; ++n) {
      size_t s = pick(rng_);
      for (int tries = 0; tries < 4 && items_[s].first == (*batch)[i].item; ++tries) s = pick(rng_);
      data::Example neg = (*batch)[i];
      neg.label = 0.0f;
      neg.item = items_[s].first;
      for (size_t j = 0; j < neg.keys.size(); ++j) {
        if (neg.fields[j] == item_field_) neg.keys[j] = items_[s].second;
      }
      batch->push_back(std::move(neg));
    }
  }
}

}  // namespace embedps::worker
