#include "worker/eval/lr_evaluator.h"

#include <filesystem>
#include <unordered_map>

#include <glog/logging.h>

#include "common/eval_metrics.h"
#include "common/model_file.h"
#include "common/partition.h"
#include "worker/data/example_reader.h"
#include "worker/model/lr_model.h"

namespace embedps::worker {
namespace {

StatusOr<std::unordered_map<uint64_t, float>> LoadWeights(const std::string& model_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(model_dir, ec)) {
    return NotFound("model directory " + model_dir + " does not exist");
  }
  std::unordered_map<uint64_t, float> weights;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(model_dir, ec)) {
    if (entry.path().extension() != ".epsmodel") continue;
    ASSIGN_OR_RETURN(ModelShard shard, ReadModelShard(entry.path().string()));
    if (shard.table != 0) continue;
    if (shard.dim != 1) {
      return InvalidArgument(entry.path().string() + ": logistic regression needs dim 1, got " +
                             std::to_string(shard.dim));
    }
    weights.reserve(weights.size() + shard.keys.size());
    for (size_t i = 0; i < shard.keys.size(); ++i) weights[shard.keys[i]] = shard.values[i];
    ++files;
  }
  if (files == 0) return NotFound("no model files (*.epsmodel) in " + model_dir);
  return weights;
}

}  // namespace

StatusOr<EvalResult> EvaluateLrModel(const std::string& model_dir, const std::string& test_files,
                                     double max_bad_line_fraction,
                                     std::optional<data::Format> format) {
  ASSIGN_OR_RETURN(auto weights, LoadWeights(model_dir));
  // One partition per file: evaluation reads every file whole, in order.
  auto parts = PlanInputPartitions({test_files}, 1);
  if (!parts.ok()) return parts.status().WithContext("test data");
  data::ReaderOptions reader_options;
  reader_options.max_bad_line_fraction = max_bad_line_fraction;
  std::vector<float> probs, labels;
  EvalResult result;
  result.model_rows = weights.size();
  auto weight_of = [&](uint64_t key) {
    auto it = weights.find(key);
    return it == weights.end() ? 0.0f : it->second;
  };
  for (const Partition& p : parts.value()) {
    ASSIGN_OR_RETURN(const data::Format file_format, data::ResolveFormat(format, p.file));
    ASSIGN_OR_RETURN(auto reader, data::ExampleReader::Open(p, file_format, reader_options));
    std::vector<data::Example> batch;
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->NextBatch(4096, &batch));
      if (n == 0) break;
      for (const auto& ex : batch) {
        probs.push_back(Sigmoid(LrLogit(ex, weight_of)));
        labels.push_back(ex.label);
      }
    }
    result.bad_lines += reader->bad_lines();
  }
  if (probs.empty()) return InvalidArgument("test data " + test_files + " has no valid rows");
  result.rows = probs.size();
  result.auc = RocAuc(probs, labels);
  result.logloss = LogLoss(probs, labels);
  double positives = 0;
  for (float y : labels) positives += y;
  result.positive_rate = positives / labels.size();
  return result;
}

}  // namespace embedps::worker
