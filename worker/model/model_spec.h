// Which model a job trains and its shape, as one value: built from flags by
// the launcher and the workers, written into an exported model's metadata,
// and read back by `embedps eval|predict|recommend` to rebuild the same
// model around the exported tables.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "worker/model/model.h"

namespace embedps::worker {

struct ModelSpec {
  // lr, fm, deepfm, mf, hybrid or ncf.
  std::string model = "lr";
  Objective objective = Objective::kBinary;
  uint32_t factors = 16;
  float l2 = 0.0f;       // on factors / embeddings, per occurrence
  float bias_l2 = 0.0f;  // on linear weights (fm, mf, hybrid)
  float init_scale = 0.01f;
  // deepfm: MLP hidden sizes, the fields feeding it (first_field ..
  // first_field + fields - 1), dense features.
  std::vector<int> hidden = {400, 400, 400};
  uint32_t first_field = 0;
  uint32_t fields = 40;
  uint32_t dense_features = 13;
  // deepfm: the dense features (already log(1 + x)) enter the MLP times
  // this, so that values up to ~20 do not drown field embeddings of ~0.1.
  float dense_scale = 0.1f;
  // mf/hybrid: fields on the item side of the dot product.
  std::set<uint16_t> item_fields = {1};
  // kRating: predictions are clipped to this range.
  float min_rating = 1.0f;
  float max_rating = 5.0f;
  // ncf: sampled negatives per observed interaction.
  uint32_t negatives = 4;
};

// InvalidArgument unless `model` names a model this build trains.
Status CheckModelName(const std::string& model);

// InvalidArgument for an unknown model or an impossible shape.
Status ValidateModelSpec(const ModelSpec& spec);
StatusOr<std::unique_ptr<Model>> MakeModel(const ModelSpec& spec);

nlohmann::json ModelSpecToJson(const ModelSpec& spec);
StatusOr<ModelSpec> ModelSpecFromJson(const nlohmann::json& j);

}  // namespace embedps::worker
