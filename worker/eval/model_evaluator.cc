#include "worker/eval/model_evaluator.h"

#include "common/eval_metrics.h"
#include "common/input_files.h"
#include "common/rating_metrics.h"
#include "worker/data/example_reader.h"
#include "worker/data/format.h"

namespace embedps::worker {

StatusOr<EvalResult> EvaluateModel(ExportedModel& exported, const std::string& test_files,
                                   double max_bad_line_fraction, std::optional<data::Format> format,
                                   const data::SideFeatures* side) {
  // One partition per file: evaluation reads every file whole, in order.
  auto parts = PlanInputPartitions({test_files}, 1);
  if (!parts.ok()) return parts.status().WithContext("test data");
  data::ReaderOptions reader_options;
  reader_options.max_bad_line_fraction = max_bad_line_fraction;
  Model& model = exported.model();
  std::vector<float> scores, labels, batch_scores;
  std::vector<data::Example> batch;
  TableRows rows;
  EvalResult result;
  result.model_rows = exported.rows(0);
  result.objective = model.objective();
  for (const Partition& p : parts.value()) {
    ASSIGN_OR_RETURN(const data::Format file_format, data::ResolveFormat(format, p.file));
    ASSIGN_OR_RETURN(auto reader, data::ExampleReader::Open(p, file_format, reader_options));
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->NextBatch(4096, &batch));
      if (n == 0) break;
      if (side != nullptr) {
        for (auto& ex : batch) side->Append(&ex);
      }
      model.Prepare(batch);
      exported.Fill(&rows);
      model.Predict(batch, rows, &batch_scores);
      scores.insert(scores.end(), batch_scores.begin(), batch_scores.end());
      for (const auto& ex : batch) labels.push_back(ex.label);
    }
    result.bad_lines += reader->bad_lines();
  }
  if (scores.empty()) return InvalidArgument("test data " + test_files + " has no valid rows");
  result.rows = scores.size();
  if (result.objective == Objective::kBinary) {
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
