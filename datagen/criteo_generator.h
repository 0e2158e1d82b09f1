// Synthetic Criteo-format data drawn from a planted click model, so training
// quality can be judged against a known optimum: the file's meta.json reports
// the AUC and log loss of the true click probabilities (the "oracle").
//
// The model is fully determined by model_seed; `seed` only picks which rows
// are sampled, so train and test files generated with different seeds come
// from the same model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace embedps::datagen {

// What to generate and where.
struct CriteoGeneratorOptions {
  uint64_t rows = 0;
  uint64_t seed = 1;                // picks the rows
  uint64_t model_seed = 20261125;   // picks the planted model
  std::string out;                  // data file; metadata goes to out + ".meta.json"
  bool progress = true;             // rows done and rows/s on stderr every ~2 s
};

// Summary of a generated file (also written to its meta.json).
struct CriteoGeneratorResult {
  uint64_t rows = 0;
  double positive_rate = 0;
  double oracle_auc = 0;      // AUC of the true probabilities on these rows
  double oracle_logloss = 0;  // mean log loss of the true probabilities
  // AUC of the true logit's linear part alone, and of linear + pairwise
  // parts (what a model of exactly that class would reach if it learned
  // the planted parameters perfectly; a fitted LR or FM also absorbs the
  // additive share of the parts it lacks, so it can exceed these).
  double oracle_auc_linear_part = 0;
  double oracle_auc_without_deep_part = 0;
  double seconds = 0;
};

// Writes `rows` Criteo-format lines (label, 13 integer and 26 categorical
// fields, tab-separated) to opts.out and a JSON file opts.out + ".meta.json"
// with format, rows, seed, model_seed, positive_rate, oracle_auc,
// oracle_logloss, the parts' AUCs and logit standard deviations, and a
// description of the planted model. InvalidArgument for
// rows == 0 or an empty path; FailedPrecondition or DataLoss when a file
// cannot be written. Keeps 16 bytes per row in memory for the exact AUCs.
[[nodiscard]] StatusOr<CriteoGeneratorResult> GenerateCriteo(const CriteoGeneratorOptions& opts);

// What opts.out already holds, when it is the file GenerateCriteo(opts)
// would write: its meta.json records the same rows, seeds and planted model
// version, and the file has the recorded size. The figures come from the
// meta.json. Nothing when opts.out does not exist; FailedPrecondition,
// saying why, when it exists and is another file.
[[nodiscard]] StatusOr<std::optional<CriteoGeneratorResult>> ExistingCriteo(const CriteoGeneratorOptions& opts);

}  // namespace embedps::datagen
