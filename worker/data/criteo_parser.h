// Criteo display-advertising TSV: one example per line,
//   label \t I1..I13 \t C1..C26
// parsed into one hashed 64-bit key per feature field plus a shared bias key,
// and the 13 integer features as dense log(1 + x) values.
// The keys are the model's feature ids everywhere (workers, servers, exported
// models), so FeatureKey/BucketizeInteger must never change behaviour.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "common/criteo_format.h"
#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::data {

// The field counts and BucketizeInteger: common/criteo_format.h.

// A parsed line has one key per feature field plus the bias key, always last:
// keys[f] is in field f (0..12 = I1..I13, 13..38 = C1..C26) and the bias key
// is in field kCriteoBiasField. Every value is 1.
inline constexpr int kCriteoKeysPerExample = kCriteoFeatureFields + 1;
// A line with its trailing empty fields trimmed still has the label and the
// integer fields; the categorical fields it lacks are missing values.
inline constexpr int kMinCriteoLineFields = 1 + kCriteoIntFields;
inline constexpr uint16_t kCriteoBiasField = kCriteoFeatureFields;

// Key of (field index 0..38, token). Fields are namespaces: the same token in
// two fields gives different keys. The empty token is an explicit "missing"
// category of that field, because missingness itself predicts clicks.
uint64_t FeatureKey(int field, std::string_view token);

// Key of integer field `field` (0..12) whose value fell into `bucket`; the same
// as FeatureKey(field, decimal text of bucket).
uint64_t IntegerFeatureKey(int field, int64_t bucket);

// The bias key shared by all examples (a fixed constant hash).
uint64_t BiasKey();

// The dense value of an integer feature: log(1 + max(v, 0)); a missing value
// is 0.
float CriteoDenseValue(int64_t v);

// Parses one line (without its newline; a trailing '\r' is accepted; trailing
// empty fields may be trimmed, down to kMinCriteoLineFields) into
// *out, overwriting all of it: label, kCriteoKeysPerExample keys/fields/values
// and kCriteoIntFields dense values. InvalidArgument with a short reason on
// malformed input; *out is then unspecified. Allocation-free when *out was
// used for a Criteo line before.
[[nodiscard]] Status ParseCriteoLine(std::string_view line, Example* out);

// The same without the label (I1..I13 \t C1..C26, 39 fields: Kaggle's
// test.txt), for scoring: the keys are those of the labeled line with the
// same features, and the label is 0.
[[nodiscard]] Status ParseUnlabeledCriteoLine(std::string_view line, Example* out);

}  // namespace embedps::data
