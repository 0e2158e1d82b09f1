// Offline evaluation of an exported model (any ModelSpec) on test data: reads
// the files, scores them through the model's own Predict with rows from the
// export, and reports the metrics of its objective (AUC and log loss for
// clicks, RMSE and MAE for ratings).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "worker/data/example.h"
#include "worker/data/side_features.h"
#include "worker/eval/exported_model.h"

namespace embedps::worker {

struct EvalResult {
  uint64_t rows = 0;
  uint64_t bad_lines = 0;
  uint64_t model_rows = 0;  // rows of table 0 in the export
  Objective objective = Objective::kBinary;
  double auc = 0;
  double logloss = 0;
  double positive_rate = 0;
  double rmse = 0;
  double mae = 0;
};

// The metrics of `objective` for scores (probabilities or ratings) against
// labels; rows, bad_lines and model_rows are left for the caller.
EvalResult MetricsOf(Objective objective, const std::vector<float>& scores, const std::vector<float>& labels);

// `test_files`: a file, comma-separated files or a glob (plain or gzip), read
// as `format` or as each file's detected format. `side` (hybrid) is appended
// to every example as in training. InvalidArgument past
// max_bad_line_fraction malformed lines or with no valid rows.
StatusOr<EvalResult> EvaluateModel(ExportedModel& model, const std::string& test_files,
                                   double max_bad_line_fraction, std::optional<data::Format> format,
                                   const data::SideFeatures* side = nullptr);

}  // namespace embedps::worker
