#include "worker/eval/exported_model.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/model_file.h"

namespace embedps::worker {

namespace fs = std::filesystem;

nlohmann::json ModelInfoJson(const ExportedModelInfo& info) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : info.tables) {
    tables.push_back({{"id", t.id}, {"name", t.name}, {"dim", t.dim}, {"initializer", t.initializer},
                      {"init_scale", t.init_scale}, {"seed", t.seed}});
  }
  nlohmann::json j = {{"format", "embedps-model"}, {"version", kModelFormatVersion},
                      {"spec", ModelSpecToJson(info.spec)}, {"tables", tables},
                      {"data_format", info.data_format}, {"training", info.extra}};
  if (info.csv) {
    j["csv"] = {{"label", info.csv->label}, {"numeric", info.csv->numeric}, {"categorical", info.csv->categorical}};
  }
  if (!info.side_files.empty()) {
    nlohmann::json& side = j["side_files"] = nlohmann::json::array();
    for (const auto& f : info.side_files) {
      side.push_back({{"side", f.side}, {"file", f.file}, {"source", f.source}, {"spec", f.spec}});
    }
  }
  return j;
}

Status WriteModelInfo(const std::string& dir, const ExportedModelInfo& info) {
  const nlohmann::json j = ModelInfoJson(info);
  const std::string path = dir + "/model.json", tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out.flush()) return Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Unavailable("cannot rename " + tmp + ": " + ec.message());
  return Status::OK();
}

StatusOr<ExportedModelInfo> ReadModelInfo(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("model directory " + dir + " does not exist");
  const std::string path = dir + "/model.json";
  std::ifstream in(path);
  if (!in) return NotFound("no model metadata " + path + " (is " + dir + " an exported model?)");
  ExportedModelInfo info;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    if (j.at("format") != "embedps-model") return InvalidArgument(path + ": not an embedps model");
    if (j.at("version").get<int>() != kModelFormatVersion) {
      return InvalidArgument(path + ": model format version " + j.at("version").dump() +
                             ", this build reads " + std::to_string(kModelFormatVersion));
    }
    ASSIGN_OR_RETURN(info.spec, ModelSpecFromJson(j.at("spec")));
    for (const auto& t : j.at("tables")) {
      info.tables.push_back(ExportedTableInfo{t.at("id"), t.at("name"), t.at("dim"), t.at("initializer"),
                                              t.at("init_scale"), t.at("seed")});
    }
    for (const auto& f : j.value("side_files", nlohmann::json::array())) {
      info.side_files.push_back(ExportedSideFile{f.at("side"), f.at("file"), f.at("source"), f.at("spec")});
      if (info.side_files.back().side != "user" && info.side_files.back().side != "item") {
        return InvalidArgument(path + ": side file of unknown side \"" + info.side_files.back().side + "\"");
      }
    }
    if (j.contains("csv")) {
      const nlohmann::json& c = j["csv"];
      info.csv = data::CsvColumns{c.at("label"), c.at("numeric"), c.at("categorical"), {}};
    }
    info.data_format = j.at("data_format").get<std::string>();
    info.extra = j.value("training", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  return info;
}

StatusOr<std::unique_ptr<ExportedModel>> ExportedModel::Load(const std::string& dir,
                                                             InitialValueFn init) {
  std::unique_ptr<ExportedModel> m(new ExportedModel);
  ASSIGN_OR_RETURN(m->info_, ReadModelInfo(dir));
  ASSIGN_OR_RETURN(m->model_, MakeModel(m->info_.spec));
  const auto& tables = m->model_->tables();
  if (tables.size() != m->info_.tables.size()) {
    return InvalidArgument(dir + "/model.json lists " + std::to_string(m->info_.tables.size()) +
                           " tables, the model has " + std::to_string(tables.size()));
  }
  for (size_t t = 0; t < tables.size(); ++t) {
    if (tables[t].dim != m->info_.tables[t].dim || m->info_.tables[t].id != t) {
      return InvalidArgument(dir + "/model.json: table " + std::to_string(t) + " does not match the model");
    }
  }
  m->init_ = std::move(init);
  m->index_.resize(tables.size());
  m->values_.resize(tables.size());
  std::error_code ec;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".epsmodel") continue;
    ASSIGN_OR_RETURN(ModelShard shard, ReadModelShard(entry.path().string()));
    if (shard.table >= tables.size() || shard.dim != tables[shard.table].dim) {
      return InvalidArgument(entry.path().string() + ": table " + std::to_string(shard.table) +
                             " with dim " + std::to_string(shard.dim) + " is not part of this model");
    }
    auto& index = m->index_[shard.table];
    auto& values = m->values_[shard.table];
    index.reserve(index.size() + shard.keys.size());
    for (size_t i = 0; i < shard.keys.size(); ++i) {
      index[shard.keys[i]] = values.size();
      values.insert(values.end(), shard.values.begin() + i * shard.dim,
                    shard.values.begin() + (i + 1) * shard.dim);
    }
    ++files;
  }
  if (ec) return NotFound("cannot list " + dir + ": " + ec.message());
  if (files == 0) return NotFound("no table files (*.epsmodel) in " + dir);
  return m;
}

void ExportedModel::Fill(TableRows* rows) const {
  const auto& tables = model_->tables();
  rows->resize(tables.size());
  for (size_t t = 0; t < tables.size(); ++t) {
    const auto& keys = model_->Keys(t);
    const uint32_t dim = tables[t].dim;
    (*rows)[t].resize(keys.size() * dim);
    for (size_t i = 0; i < keys.size(); ++i) {
      float* out = &(*rows)[t][i * dim];
      auto it = index_[t].find(keys[i]);
      if (it != index_[t].end()) {
        std::memcpy(out, &values_[t][it->second], dim * sizeof(float));
      } else {
        init_(t, keys[i], out);
      }
    }
  }
}

void ExportedModel::Score(std::vector<data::Example>* batch, const data::SideFeatures* side,
                          std::vector<float>* scores) {
  if (side != nullptr) {
    for (auto& ex : *batch) side->Append(&ex);
  }
  model_->Prepare(*batch);
  Fill(&scratch_);
  model_->Predict(*batch, scratch_, scores);
}

Status ExportedModel::SetRatingRange(float min_rating, float max_rating) {
  info_.spec.min_rating = min_rating;
  info_.spec.max_rating = max_rating;
  ASSIGN_OR_RETURN(model_, MakeModel(info_.spec));
  return Status::OK();
}

}  // namespace embedps::worker
