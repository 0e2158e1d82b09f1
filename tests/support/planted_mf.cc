#include "tests/support/planted_mf.h"

#include <filesystem>
#include <set>

#include "common/model_file.h"
#include "worker/data/rating_parser.h"
#include "worker/eval/exported_model.h"
#include "worker/eval/interactions.h"
#include "worker/model/factor_models.h"

namespace embedps::testing {
namespace {

float Get(const std::map<uint64_t, float>& m, uint64_t id) {
  auto it = m.find(id);
  return it == m.end() ? 0.0f : it->second;
}

}  // namespace

float PlantedMf::Score(uint64_t user, uint64_t item) const {
  return global_bias + Get(item_bias, item) + Get(user_factor, user) * Get(item_factor, item);
}

Status WritePlantedMf(const std::string& dir, const PlantedMf& m) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir + ": " + ec.message());
  worker::ExportedModelInfo info;
  info.spec.model = "mf";
  info.spec.objective = worker::Objective::kRating;
  info.spec.factors = 1;
  info.tables.push_back(worker::ExportedTableInfo{0, "factors", 2, "zeros", 0.0f, 1});
  info.data_format = "movielens";
  RETURN_IF_ERROR(worker::WriteModelInfo(dir, info));
  ModelShard shard;
  shard.dim = 2;
  auto add = [&shard](uint64_t key, float w, float v) {
    shard.keys.push_back(key);
    shard.values.insert(shard.values.end(), {w, v});
  };
  add(worker::GlobalBiasKey(), m.global_bias, 0);
  std::set<uint64_t> items;
  for (const auto& [item, b] : m.item_bias) items.insert(item);
  for (const auto& [item, v] : m.item_factor) items.insert(item);
  for (uint64_t item : items) add(data::ItemKey(item), Get(m.item_bias, item), Get(m.item_factor, item));
  for (const auto& [user, u] : m.user_factor) add(data::UserKey(user), 0, u);
  RETURN_IF_ERROR(WriteModelShard(dir + "/factors-0.epsmodel", shard));
  worker::Interactions seen;
  for (const auto& [user, item] : m.seen) seen.Add(user, item);
  seen.Finish();
  return worker::WriteInteractionsFile(dir + "/" + worker::kInteractionsFile, seen);
}

}  // namespace embedps::testing
