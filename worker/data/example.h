// The one example type every reader produces and every model consumes.
//
// A model sees an example as a label plus sparse features grouped in fields
// (Criteo's C1..C26, a rating's user and item, a libsvm line's indices, side
// features such as genres), each feature a hashed 64-bit key with a value
// (1 for one-hot), and optionally dense float features. Readers reuse the
// vectors of a batch's examples, so steady-state parsing does not allocate.
//
// Fields by format: Criteo 0..12 = I1..I13, 13..38 = C1..C26, 39 = the bias
// key (criteo_parser.h); ratings 0 = user, 1 = item, side features from 2
// (rating_parser.h, side_features.h); libsvm: every feature in field 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace embedps::data {

struct Example {
  float label = 0;
  // Sparse features: keys[i] in field fields[i] with value values[i]. Keys
  // already include their field (see FeatureKey), so a key names one row.
  std::vector<uint64_t> keys;
  std::vector<uint16_t> fields;
  std::vector<float> values;
  // Dense features (Criteo's I1..I13 as log(1 + max(x, 0)); empty elsewhere).
  std::vector<float> dense;
  // Rating data: the raw user and item ids as written in the file, for
  // per-user evaluation (HR@K, NDCG@K) and recommendation. 0 elsewhere.
  uint64_t user = 0;
  uint64_t item = 0;
  // Rating data: seconds since the epoch (for leave-latest-out splits).
  int64_t timestamp = 0;

  void Clear() {
    label = 0;
    keys.clear();
    fields.clear();
    values.clear();
    dense.clear();
    user = item = 0;
    timestamp = 0;
  }
  void AddFeature(uint16_t field, uint64_t key, float value = 1.0f) {
    keys.push_back(key);
    fields.push_back(field);
    values.push_back(value);
  }
};

// Input formats, detected from a file's name and first line or set by
// --format.
enum class Format {
  kCriteo,          // label \t I1..I13 \t C1..C26
  kCriteoUnlabeled, // I1..I13 \t C1..C26 (Kaggle's test.txt): scoring only
  kMovieLensTab,    // u.data: user \t item \t rating \t timestamp
  kMovieLensColon,  // ratings.dat: user::item::rating::timestamp
  kMovieLensCsv,    // ratings.csv: userId,movieId,rating,timestamp with a header
  kLibsvm,          // label index:value ...
  kCsv,             // a header naming the columns, then delimited rows (csv_schema.h)
};

}  // namespace embedps::data
