// A trained model as `embedps export` (and the end of every job) writes it:
// a directory holding
//   model.json           metadata: format version, the ModelSpec, every
//                        table's id, name, dim and initializer, the input
//                        format, and training facts;
//   <table>-<n>.epsmodel the table's rows, one file per server
//                        (common/model_file.h; documented in
//                        docs/model-format.md);
//   user_features,       hybrid models: copies of the side files they
//   item_features        were trained with (model.json's side_files).
// Loaded into memory, it answers the row lookups a Model needs, so
// eval/predict/recommend run without a cluster.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "worker/data/csv_schema.h"
#include "worker/data/side_features.h"
#include "worker/model/model_spec.h"

namespace embedps::worker {

struct ExportedTableInfo {
  uint32_t id = 0;
  std::string name;
  uint32_t dim = 0;
  std::string initializer = "zeros";
  float init_scale = 0;
  uint64_t seed = 0;
};

// A side file the model was trained with (hybrid), copied into the model
// directory so that the model can be scored as trained.
struct ExportedSideFile {
  std::string side;    // "user" or "item", in the order they were loaded
  std::string file;    // the copy's name in the model directory; empty: no copy
  std::string source;  // the file the job read
  std::string spec;    // its columns (data::SideFileSpecText)
};

struct ExportedModelInfo {
  ModelSpec spec;
  std::vector<ExportedTableInfo> tables;
  std::vector<ExportedSideFile> side_files;
  std::optional<data::CsvColumns> csv;  // csv data: the columns, in field order
  std::string data_format;  // as --format names it
  nlohmann::json extra;     // training facts (rows, metrics), informational
};

inline constexpr int kModelFormatVersion = 1;

// model.json's content.
nlohmann::json ModelInfoJson(const ExportedModelInfo& info);
// Writes dir/model.json atomically.
Status WriteModelInfo(const std::string& dir, const ExportedModelInfo& info);
StatusOr<ExportedModelInfo> ReadModelInfo(const std::string& dir);

class ExportedModel {
 public:
  // The initial value of a key's row in table t, for keys the model never
  // trained (the servers' initializer; see ps::EmbeddingTable).
  using InitialValueFn = std::function<void(size_t table, uint64_t key, float* out)>;

  // NotFound without model.json or rows; DataLoss for a damaged table file;
  // InvalidArgument when files disagree with the metadata.
  static StatusOr<std::unique_ptr<ExportedModel>> Load(const std::string& dir, InitialValueFn init);

  const ExportedModelInfo& info() const { return info_; }
  Model& model() { return *model_; }
  size_t rows(size_t table) const { return index_[table].size(); }
  // Whether table t holds `key`.
  bool Has(size_t table, uint64_t key) const { return index_[table].count(key) > 0; }

  // Rows of every table for the batch the model last prepared.
  void Fill(TableRows* rows) const;

  // Scores `batch` through the model (probabilities for click models,
  // predicted ratings for rating models), appending the side features of
  // `side` (hybrid) to every example first. Not thread-safe: the model
  // keeps per-batch state.
  void Score(std::vector<data::Example>* batch, const data::SideFeatures* side, std::vector<float>* scores);

  // Rebuilds the model with predictions clipped to [min_rating, max_rating]
  // instead of the trained range (a ranking wants unclipped ratings); the
  // tables are unchanged. No effect on click models.
  Status SetRatingRange(float min_rating, float max_rating);

 private:
  ExportedModelInfo info_;
  std::unique_ptr<Model> model_;
  InitialValueFn init_;
  std::vector<std::unordered_map<uint64_t, size_t>> index_;  // key -> row offset
  std::vector<std::vector<float>> values_;
  TableRows scratch_;  // rows of the batch being scored
};

}  // namespace embedps::worker
