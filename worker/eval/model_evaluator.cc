#include "worker/eval/model_evaluator.h"

#include "common/eval_metrics.h"
#include "common/rating_metrics.h"
#include "worker/eval/example_scan.h"

namespace embedps::worker {

StatusOr<EvalResult> EvaluateModel(ExportedModel& exported, const std::string& test_files,
                                   double max_bad_line_fraction, std::optional<data::Format> format,
                                   const data::SideFeatures* side) {
  std::vector<float> scores, labels, batch_scores;
  EvalResult result;
  result.model_rows = exported.rows(0);
  result.objective = exported.model().objective();
  ScanOptions scan;
  scan.max_bad_line_fraction = max_bad_line_fraction;
  if (exported.info().csv) scan.csv = *exported.info().csv;
  RETURN_IF_ERROR(ScanExamples(
      test_files, format, scan,
      [&](std::vector<data::Example>& batch) {
        exported.Score(&batch, side, &batch_scores);
        scores.insert(scores.end(), batch_scores.begin(), batch_scores.end());
        for (const auto& ex : batch) labels.push_back(ex.label);
        return Status::OK();
      },
      &result.bad_lines).WithContext("test data"));
  if (scores.empty()) return InvalidArgument("test data " + test_files + " has no valid rows");
  EvalResult metrics = MetricsOf(result.objective, scores, labels);
  metrics.bad_lines = result.bad_lines;
  metrics.model_rows = result.model_rows;
  return metrics;
}

EvalResult MetricsOf(Objective objective, const std::vector<float>& scores, const std::vector<float>& labels) {
  EvalResult result;
  result.objective = objective;
  result.rows = scores.size();
  if (scores.empty()) return result;
  if (objective == Objective::kBinary) {
    result.auc = RocAuc(scores, labels);
    result.logloss = LogLoss(scores, labels);
    double positives = 0;
    for (float y : labels) positives += y;
    result.positive_rate = positives / labels.size();
  } else {
    result.rmse = Rmse(scores, labels);
    result.mae = MeanAbsoluteError(scores, labels);
  }
  return result;
}

}  // namespace embedps::worker
