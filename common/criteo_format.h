// The shape of a Criteo display-advertising line (label, 13 integer fields,
// 26 categorical fields) and how integer values are bucketized: shared by
// the worker's parser (worker/data/criteo_parser.h) and the data generator
// (datagen/), which plants its weights on exactly these buckets, so neither
// includes the other. FeatureKey and the bucketing must never change
// behaviour: the keys are the model's feature ids everywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace embedps::data {

inline constexpr int kCriteoIntFields = 13;
inline constexpr int kCriteoCatFields = 26;
inline constexpr int kCriteoFeatureFields = kCriteoIntFields + kCriteoCatFields;
// Label plus the feature fields.
inline constexpr int kCriteoLineFields = kCriteoFeatureFields + 1;

// Integer features are bucketized before hashing, as in the Criteo competition
// winners: v <= 2 keeps its own bucket (including negatives), else
// bucket = floor(ln(v)^2). Returns the bucket id.
inline int64_t BucketizeInteger(int64_t v) {
  if (v <= 2) return v;
  const double l = std::log(static_cast<double>(v));
  return static_cast<int64_t>(std::floor(l * l));
}

}  // namespace embedps::data
