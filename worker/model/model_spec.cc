#include "worker/model/model_spec.h"

#include <cmath>

#include "worker/model/deepfm_model.h"
#include "worker/model/factor_models.h"
#include "worker/model/linear_model.h"
#include "worker/model/ncf_model.h"

namespace embedps::worker {

namespace {
// Wire rows are at most 1024 floats (common/wire/messages.h).
constexpr uint32_t kMaxRowDim = 1024;

FactorModelOptions FactorOptions(const ModelSpec& s) {
  FactorModelOptions o;
  o.factors = s.factors;
  o.l2 = s.l2;
  o.bias_l2 = s.bias_l2;
  o.init_scale = s.init_scale;
  o.objective = s.objective;
  o.min_rating = s.min_rating;
  o.max_rating = s.max_rating;
  o.item_fields = s.item_fields;
  return o;
}
}  // namespace

Status CheckModelName(const std::string& model) {
  static const std::set<std::string> kModels = {"lr", "fm", "deepfm", "mf", "hybrid", "ncf"};
  if (kModels.count(model) == 0) {
    return InvalidArgument("unknown model '" + model + "' (expected lr, fm, deepfm, mf, hybrid or ncf)");
  }
  return Status::OK();
}

Status ValidateModelSpec(const ModelSpec& s) {
  RETURN_IF_ERROR(CheckModelName(s.model));
  if (s.model != "lr" && (s.factors == 0 || 2 * s.factors > kMaxRowDim)) {
    return InvalidArgument("--factors must be in 1.." + std::to_string(kMaxRowDim / 2));
  }
  for (int h : s.hidden) {
    if (h < 1 || static_cast<uint32_t>(h) > kMaxRowDim) {
      return InvalidArgument("hidden layer sizes must be in 1.." + std::to_string(kMaxRowDim));
    }
  }
  if (s.model == "deepfm" && (s.fields == 0 || s.fields > 4096 || s.first_field > 65535)) {
    return InvalidArgument("deepfm needs 1..4096 fields from a field id below 65536");
  }
  if (!std::isfinite(s.dense_scale) || s.dense_scale < 0) {
    return InvalidArgument("dense_scale must be a finite number >= 0");
  }
  if (!(s.l2 >= 0) || !(s.bias_l2 >= 0) || !(s.init_scale >= 0)) {
    return InvalidArgument("l2, bias_l2 and init_scale must be >= 0");
  }
  if ((s.model == "mf" || s.model == "hybrid") && s.objective != Objective::kRating) {
    return InvalidArgument(s.model + " predicts ratings: it needs rating data (MovieLens format)");
  }
  if (!(s.min_rating <= s.max_rating)) return InvalidArgument("min_rating must be <= max_rating");
  return Status::OK();
}

StatusOr<std::unique_ptr<Model>> MakeModel(const ModelSpec& s) {
  RETURN_IF_ERROR(ValidateModelSpec(s));
  if (s.model == "lr") return std::unique_ptr<Model>(new LinearModel(s.objective, s.min_rating, s.max_rating));
  if (s.model == "fm") return std::unique_ptr<Model>(new FmModel(FactorOptions(s)));
  if (s.model == "mf" || s.model == "hybrid") {
    return std::unique_ptr<Model>(new MfModel(FactorOptions(s), s.model));
  }
  if (s.model == "deepfm") {
    DeepFmOptions o;
    o.fm = FactorOptions(s);
    o.first_field = s.first_field;
    o.fields = s.fields;
    o.dense_features = s.dense_features;
    o.dense_scale = s.dense_scale;
    o.hidden = s.hidden;
    return std::unique_ptr<Model>(new DeepFmModel(o));
  }
  NcfOptions o;
  o.factors = s.factors;
  o.hidden = s.hidden;
  o.l2 = s.l2;
  o.init_scale = s.init_scale;
  return std::unique_ptr<Model>(new NcfModel(o));
}

nlohmann::json ModelSpecToJson(const ModelSpec& s) {
  return nlohmann::json{{"model", s.model},
                        {"objective", s.objective == Objective::kBinary ? "binary" : "rating"},
                        {"factors", s.factors},
                        {"l2", s.l2},
                        {"bias_l2", s.bias_l2},
                        {"init_scale", s.init_scale},
                        {"hidden", s.hidden},
                        {"first_field", s.first_field},
                        {"fields", s.fields},
                        {"dense_features", s.dense_features},
                        {"dense_scale", s.dense_scale},
                        {"item_fields", s.item_fields},
                        {"min_rating", s.min_rating},
                        {"max_rating", s.max_rating},
                        {"negatives", s.negatives}};
}

StatusOr<ModelSpec> ModelSpecFromJson(const nlohmann::json& j) {
  ModelSpec s;
  try {
    s.model = j.at("model").get<std::string>();
    const std::string objective = j.at("objective").get<std::string>();
    if (objective != "binary" && objective != "rating") {
      return InvalidArgument("model metadata: unknown objective '" + objective + "'");
    }
    s.objective = objective == "binary" ? Objective::kBinary : Objective::kRating;
    s.factors = j.at("factors").get<uint32_t>();
    s.l2 = j.at("l2").get<float>();
    s.bias_l2 = j.at("bias_l2").get<float>();
    s.init_scale = j.at("init_scale").get<float>();
    s.hidden = j.at("hidden").get<std::vector<int>>();
    s.fields = j.at("fields").get<uint32_t>();
    s.first_field = j.value("first_field", 0u);  // older exports: from field 0
    s.dense_features = j.at("dense_features").get<uint32_t>();
    // Exports from before the scale existed fed the features unscaled.
    s.dense_scale = j.value("dense_scale", 1.0f);
    s.item_fields = j.at("item_fields").get<std::set<uint16_t>>();
    s.min_rating = j.at("min_rating").get<float>();
    s.max_rating = j.at("max_rating").get<float>();
    s.negatives = j.at("negatives").get<uint32_t>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("model metadata: ") + e.what());
  }
  RETURN_IF_ERROR(ValidateModelSpec(s));
  return s;
}

}  // namespace embedps::worker
