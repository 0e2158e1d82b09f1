// What a launcher derives from the model flags for the nodes it starts, the
// same for `embedps local` and `embedps ssh`: the servers' table
// declarations (sparse tables take --optimizer, dense ones --dense_optimizer)
// and the export's model.json.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "worker/data/format.h"
#include "worker/data/side_features.h"
#include "worker/eval/exported_model.h"
#include "worker/model/dense_matmul.h"
#include "worker/model/model.h"

namespace embedps::launch {

// Seed of every table's initializer: rows are a function of (seed, table,
// key), which model.json records for keys the model never trained.
inline constexpr uint64_t kTableSeed = 1;

// The model the model flags describe for data of `format`, built here as
// every worker will build it.
struct JobModel {
  data::Format format = data::Format::kCriteo;
  std::unique_ptr<data::SideFeatures> side;  // --user_features / --item_features
  std::optional<data::CsvSchema> csv;        // csv data: the first training file's schema
  worker::DensePrecision dense_precision = worker::DensePrecision::kFp32;  // --dense_precision resolved
  worker::ModelSpec spec;
  std::unique_ptr<worker::Model> model;
};

// csv data reads its schema from the first file of `train` (and prints
// what it resolved to).
StatusOr<JobModel> BuildJobModel(data::Format format, const std::string& train = "");

// Rating models clip their predictions to [--min_rating, --max_rating].
// Unless one of them is set, the range comes from the training data
// (`train`, read when this machine can; half stars give 0.5): both flags
// are set to it, so the workers get it too. Prints the range and where it
// came from. No effect on other data and on ncf (implicit feedback).
Status AdoptRatingRange(const std::string& train, data::Format format, double max_bad_line_fraction);

struct TableOptimizers {
  std::string optimizer = "adagrad";
  double learning_rate = 0.05;
  // The factors of [linear weight, factors] rows (fm, deepfm, mf, hybrid)
  // with adagrad or rowwise_adagrad; 0: learning_rate.
  double factor_learning_rate = 0;
  // Dense tables (MLP weights of deepfm and ncf).
  std::string dense_optimizer = "adam";
  double dense_learning_rate = 0.001;
  // Sparse tables: rows no pull or push touched for this many seconds go
  // (evict_after_seconds, ps/store/step_timeline.h); 0: never. Dense tables
  // are read every batch and never expire.
  int64_t evict_after_seconds = 0;
};

// InvalidArgument, naming the flag, for an unknown optimizer or a bad rate.
Status ValidateTableOptimizers(const TableOptimizers& o);

// One declaration per model table (ps/table_spec.h syntax), in table order.
std::vector<std::string> TableSpecLines(const TableOptimizers& o, const worker::Model& model);

// The export's model.json: the spec, every table's initializer, the data
// format, the side files and the job statistics.
// The scheduler's --model_info flag: model.json without the training
// figures, which the scheduler adds when it writes the file after the export.
std::string ModelInfoFlag(const JobModel& model);

// With the side files the model is trained with (the scheduler copies them
// into the model directory next to model.json) and a csv model's columns.
worker::ExportedModelInfo ModelInfo(const JobModel& model, const nlohmann::json& stats);

// Copies the side files `info` lists into `dir` (one that cannot be copied
// is listed without a copy, and scoring the model asks for it), then
// writes dir/model.json.
Status WriteModelInfoWithSideFiles(const std::string& dir, worker::ExportedModelInfo info);

}  // namespace embedps::launch
