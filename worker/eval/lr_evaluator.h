// Offline evaluation of an exported logistic-regression model: loads every
// model shard a job wrote and scores a Criteo-format test file.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace embedps::worker {

struct EvalResult {
  uint64_t rows = 0;
  uint64_t bad_lines = 0;
  uint64_t model_rows = 0;
  double auc = 0;
  double logloss = 0;
  double positive_rate = 0;
};

// Reads the *.epsmodel files of table 0 under `model_dir` and evaluates the
// model on `test_file`. Keys the model never saw score 0 (the servers' default
// zero initializer). NotFound when there is no model or test file; DataLoss
// for a corrupt model file; InvalidArgument when the test file has too many
// malformed lines.
StatusOr<EvalResult> EvaluateLrModel(const std::string& model_dir, const std::string& test_file,
                                     double max_bad_line_fraction);

}  // namespace embedps::worker
