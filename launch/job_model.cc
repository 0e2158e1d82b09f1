#include "launch/job_model.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <tuple>

#include <gflags/gflags.h>

#include "common/input_files.h"
#include "ps/optimizer.h"
#include "worker/eval/example_scan.h"
#include "worker/model/model_flags.h"

namespace embedps::launch {

StatusOr<JobModel> BuildJobModel(data::Format format, const std::string& train) {
  JobModel m;
  m.format = format;
  if (format == data::Format::kCsv) {
    ASSIGN_OR_RETURN(const std::vector<std::string> files, ExpandInputs(train));
    ASSIGN_OR_RETURN(m.csv, data::ReadCsvSchema(files.at(0), worker::CsvColumnsFromFlags()));
    std::printf("embedps: csv data: %s\n", m.csv->Describe().c_str());
    std::fflush(stdout);
  }
  ASSIGN_OR_RETURN(m.dense_precision, worker::ApplyDensePrecisionFlag());
  ASSIGN_OR_RETURN(m.side, worker::SideFeaturesFromFlags());
  ASSIGN_OR_RETURN(m.spec, worker::ModelSpecFromFlags(format, m.side.get(), m.csv ? &*m.csv : nullptr));
  ASSIGN_OR_RETURN(m.model, worker::MakeModel(m.spec));
  return m;
}

Status ValidateTableOptimizers(const TableOptimizers& o) {
  for (const auto& [name, lr, flag] : {std::tuple{o.optimizer, o.learning_rate, "--optimizer"},
                                      std::tuple{o.dense_optimizer, o.dense_learning_rate, "--dense_optimizer"}}) {
    ps::OptimizerConfig optimizer;
    optimizer.name = name;
    optimizer.learning_rate = static_cast<float>(lr);
    if (std::string(flag) == "--optimizer") optimizer.factor_learning_rate = static_cast<float>(o.factor_learning_rate);
    if (auto made = ps::MakeOptimizer(optimizer); !made.ok()) return made.status().WithContext(flag);
  }
  return Status::OK();
}

namespace {

// Nine significant digits: std::to_string's six decimals would turn a rate
// of 1e-7 into 0.
std::string Number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", v);
  return text;
}

}  // namespace

Status AdoptRatingRange(const std::string& train, data::Format format, double max_bad_line_fraction) {
  std::string model, min_rating, max_rating;
  gflags::GetCommandLineOption("model", &model);
  if (!data::IsRatingFormat(format) || model == "ncf") return Status::OK();
  std::string from = "--min_rating/--max_rating";
  if (!worker::FlagWasSet("min_rating") && !worker::FlagWasSet("max_rating")) {
    worker::ScanOptions scan;
    scan.max_bad_line_fraction = max_bad_line_fraction;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    const Status read = worker::ScanExamples(train, format, scan, [&](std::vector<data::Example>& batch) {
      for (const data::Example& ex : batch) {
        lo = std::min(lo, ex.label);
        hi = std::max(hi, ex.label);
      }
      return Status::OK();
    });
    if (read.ok() && lo <= hi) {
      gflags::SetCommandLineOption("min_rating", Number(lo).c_str());
      gflags::SetCommandLineOption("max_rating", Number(hi).c_str());
      from = "the training data; --min_rating/--max_rating set it";
    } else {
      from = "the flags' defaults: the training data is not readable here";
    }
  }
  gflags::GetCommandLineOption("min_rating", &min_rating);
  gflags::GetCommandLineOption("max_rating", &max_rating);
  std::printf("embedps: predicted ratings are clipped to [%s, %s] (from %s)\n", min_rating.c_str(), max_rating.c_str(),
              from.c_str());
  std::fflush(stdout);
  return Status::OK();
}


std::vector<std::string> TableSpecLines(const TableOptimizers& o, const worker::Model& model) {
  std::vector<std::string> lines;
  for (const auto& t : model.tables()) {
    const std::string& optimizer = t.dense ? o.dense_optimizer : o.optimizer;
    const double lr = t.dense ? o.dense_learning_rate : o.learning_rate;
    std::string line = "name=" + t.name + " dim=" + std::to_string(t.dim) + " init=" + t.initializer +
                       " init_scale=" + Number(t.init_scale) + " seed=" + std::to_string(kTableSeed) +
                       " optimizer=" + optimizer + " lr=" + Number(lr);
    if (t.factor_row && o.factor_learning_rate > 0) line += " factor_lr=" + Number(o.factor_learning_rate);
    if (!t.dense && o.evict_after_seconds > 0) line += " evict_after_seconds=" + std::to_string(o.evict_after_seconds);
    lines.push_back(std::move(line));
  }
  return lines;
}

worker::ExportedModelInfo ModelInfo(const JobModel& m, const nlohmann::json& stats) {
  worker::ExportedModelInfo info;
  info.spec = m.spec;
  const data::Format format = m.format;
  const data::SideFeatures* side = m.side.get();
  if (m.csv) info.csv = m.csv->resolved();
  uint32_t id = 0;
  for (const auto& t : m.model->tables()) {
    info.tables.push_back(worker::ExportedTableInfo{id++, t.name, t.dim, t.initializer, t.init_scale, kTableSeed});
  }
  if (side != nullptr) {
    for (const auto& f : side->loaded()) {
      // An absolute source: the scheduler that copies it may run elsewhere.
      std::error_code ec;
      const std::filesystem::path source = std::filesystem::absolute(f.path, ec);
      const std::string name = std::string(data::SideName(f.side)) + "_features";
      info.side_files.push_back(worker::ExportedSideFile{data::SideName(f.side), name,
                                                         ec ? f.path : source.lexically_normal().string(), f.spec});
    }
  }
  info.data_format = data::FormatName(format);
  info.extra = stats;
  return info;
}

Status WriteModelInfoWithSideFiles(const std::string& dir, worker::ExportedModelInfo info) {
  for (worker::ExportedSideFile& f : info.side_files) {
    std::error_code ec;
    std::filesystem::copy_file(f.source, dir + "/" + f.file, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      LOG(WARNING) << "side file " << f.source << " not copied into the model: " << ec.message();
      f.file.clear();
    }
  }
  return worker::WriteModelInfo(dir, info);
}

std::string ModelInfoFlag(const JobModel& m) {
  return "--model_info=" + worker::ModelInfoJson(ModelInfo(m, nlohmann::json::object())).dump();
}

}  // namespace embedps::launch
