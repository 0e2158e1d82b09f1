// Evaluation of an exported model for the summary of `embedps local` and
// for `embedps eval`: the metrics of the model's objective (AUC and log
// loss, or RMSE and MAE) and, for rating data, top-K ranking metrics
// (worker/eval/ranking_evaluator.h) against the interactions the export
// carries.
//   ncf:        HR@10 and NDCG@10 (each held-out pair against 99 sampled
//               negatives) and full-catalog precision@10 / recall@10, every
//               held-out pair relevant. Its AUC and log loss are not
//               reported: the held-out file holds positives only.
//   mf, hybrid: RMSE, MAE and full-catalog precision@10 / recall@10 with
//               ratings >= kRelevantRating relevant.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "worker/data/example.h"
#include "worker/data/side_features.h"

namespace embedps::launch {

inline constexpr float kRelevantRating = 4.0f;
inline constexpr size_t kRankingK = 10;

// For rating data: writes the (user, item) pairs of `train` into
// model_dir/interactions.tsv, which recommend and ranking evaluation read.
// Does nothing for other formats.
Status WriteExportInteractions(const std::string& model_dir, const std::string& train, data::Format format,
                               double max_bad_line_fraction);

struct ExportEvalRequest {
  std::string model_dir;
  std::string test;
  std::optional<data::Format> format;  // nullopt: detected per file
  const data::SideFeatures* side = nullptr;
  double max_bad_line_fraction = 0.01;
};

// Evaluates the export and adds "test_rows", "model_rows", "bad_lines_test"
// and the metrics above (test_auc, test_logloss, test_rmse, test_mae,
// test_hr_at_10, test_ndcg_at_10, test_precision_at_10, test_recall_at_10,
// and oracle_auc/oracle_logloss from TEST.meta.json when present) to
// *summary. Returns the metrics as one line of text, "test AUC ..." or
// "test RMSE ...", for the caller to print.
StatusOr<std::string> EvaluateExport(const ExportEvalRequest& request, nlohmann::json* summary);

}  // namespace embedps::launch
