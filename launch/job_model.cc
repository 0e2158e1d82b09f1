#include "launch/job_model.h"

#include <cstdio>
#include <tuple>

#include "ps/optimizer.h"
#include "worker/model/model_flags.h"

namespace embedps::launch {

StatusOr<JobModel> BuildJobModel(data::Format format) {
  JobModel m;
  m.format = format;
  ASSIGN_OR_RETURN(m.side, worker::SideFeaturesFromFlags());
  ASSIGN_OR_RETURN(m.spec, worker::ModelSpecFromFlags(format, m.side.get()));
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

std::vector<std::string> TableSpecLines(const TableOptimizers& o, const worker::Model& model) {
  std::vector<std::string> lines;
  for (const auto& t : model.tables()) {
    const std::string& optimizer = t.dense ? o.dense_optimizer : o.optimizer;
    const double lr = t.dense ? o.dense_learning_rate : o.learning_rate;
    std::string line = "name=" + t.name + " dim=" + std::to_string(t.dim) + " init=" + t.initializer +
                       " init_scale=" + Number(t.init_scale) + " seed=" + std::to_string(kTableSeed) +
                       " optimizer=" + optimizer + " lr=" + Number(lr);
    if (t.factor_row && o.factor_learning_rate > 0) line += " factor_lr=" + Number(o.factor_learning_rate);
    lines.push_back(std::move(line));
  }
  return lines;
}

worker::ExportedModelInfo ModelInfo(const worker::ModelSpec& spec, const worker::Model& model,
                                    data::Format format, const nlohmann::json& stats) {
  worker::ExportedModelInfo info;
  info.spec = spec;
  uint32_t id = 0;
  for (const auto& t : model.tables()) {
    info.tables.push_back(worker::ExportedTableInfo{id++, t.name, t.dim, t.initializer, t.init_scale, kTableSeed});
  }
  info.data_format = data::FormatName(format);
  info.extra = stats;
  return info;
}

std::string ModelInfoFlag(const worker::ModelSpec& spec, const worker::Model& model, data::Format format) {
  return "--model_info=" + worker::ModelInfoJson(ModelInfo(spec, model, format, nlohmann::json::object())).dump();
}

}  // namespace embedps::launch
