// Offline evaluation of an exported logistic-regression model: loads every
// model shard a job wrote and scores a test file in any input format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "worker/data/example.h"

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
// model on `test_files` (a file, comma-separated files or a glob; plain or
// gzip) read as `format`, or as each file's detected format when unset.
// Keys the model never saw score 0 (the servers' default zero initializer).
// NotFound when there is no model or test file; DataLoss for a corrupt model
// file; InvalidArgument when the test file has too many malformed lines or
// an undetectable format.
StatusOr<EvalResult> EvaluateLrModel(const std::string& model_dir, const std::string& test_files,
                                     double max_bad_line_fraction,
                                     std::optional<data::Format> format = std::nullopt);

}  // namespace embedps::worker
