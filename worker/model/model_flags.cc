#include "worker/model/model_flags.h"

#include <cstdio>
#include <sstream>
#include <tuple>

#include <gflags/gflags.h>

#include "worker/data/criteo_parser.h"
#include "worker/data/format.h"

DEFINE_string(model, "lr", "Model to train: lr, fm, deepfm, mf, hybrid or ncf");
DEFINE_uint32(factors, 16, "Embedding size of fm, deepfm, mf, hybrid and ncf (mf, hybrid default: 64; ncf: 32)");
DEFINE_double(l2, 0.0, "L2 penalty on embeddings, applied each time an example uses a row (mf: 0.1)");
DEFINE_double(bias_l2, 0.0, "L2 penalty on the linear weights / biases of fm, mf and hybrid");
DEFINE_double(init_scale, 0.01, "Std-dev of the initial embeddings");
DEFINE_double(dense_feature_scale, 0.1,
              "deepfm: the dense features enter the MLP as this times log(1 + x) (embeddings are "
              "about 0.1, the logs up to about 20)");
DEFINE_string(hidden, "", "MLP hidden sizes, comma-separated (deepfm default 400,400,400; ncf 64,32,16)");
DEFINE_uint32(negatives, 4, "ncf: sampled negatives per observed interaction");
DEFINE_double(min_rating, 1.0, "Rating models: predictions are clipped to [min_rating, max_rating]");
DEFINE_double(max_rating, 5.0, "Rating models: predictions are clipped to [min_rating, max_rating]");
DEFINE_string(user_features, "",
              "hybrid: user side file, plain or gzip (MovieLens u.user or users.dat, told by content; other "
              "layouts with --user_features_spec); eval, predict, recommend, serve: instead of the model's own copy");
DEFINE_string(item_features, "",
              "hybrid: item side file, plain or gzip (MovieLens u.item or movies.dat, told by content; other "
              "layouts with --item_features_spec); eval, predict, recommend, serve: instead of the model's own copy");
DEFINE_string(user_features_spec, "",
              "The columns of --user_features, e.g. 'sep=comma id=0 header=1 cat:1 bucket:2:18,25,35 "
              "prefix:3:3' (README: side features); empty: a MovieLens layout detected by content");
DEFINE_string(item_features_spec, "",
              "The columns of --item_features, e.g. 'sep=:: id=0 list:2:|'; empty: a MovieLens layout detected "
              "by content");

DEFINE_string(dense_precision, "auto",
              "deepfm, ncf: the dense layers' matrix products on oneDNN in bf16 (float32 accumulation; master "
              "weights stay float32 on the servers) or fp32; auto: bf16 where the CPU has it (AVX-512 BF16, AMX)");
DEFINE_string(label_column, "", "csv data: the label column's name (default: label, click, target or y)");
DEFINE_string(numeric_columns, "",
              "csv data: comma-separated names of numeric columns (each a dense value and a bucketed key)");
DEFINE_string(categorical_columns, "",
              "csv data: comma-separated names of categorical columns (default: every column not otherwise used)");
DEFINE_string(ignore_columns, "", "csv data: comma-separated names of columns to leave out (default: id, if present)");

namespace embedps::worker {

namespace {
StatusOr<std::vector<int>> ParseSizes(const std::string& text) {
  std::vector<int> sizes;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    try {
      size_t used = 0;
      const int v = std::stoi(part, &used);
      if (used != part.size() || v <= 0) throw std::invalid_argument(part);
      sizes.push_back(v);
    } catch (const std::exception&) {
      return InvalidArgument("--hidden: '" + part + "' is not a positive integer");
    }
  }
  if (sizes.empty()) return InvalidArgument("--hidden needs at least one size");
  return sizes;
}
}  // namespace

bool FlagWasSet(const char* name) {
  gflags::CommandLineFlagInfo info;
  return gflags::GetCommandLineFlagInfo(name, &info) && !info.is_default;
}

StatusOr<DensePrecision> ApplyDensePrecisionFlag() {
  ASSIGN_OR_RETURN(const DensePrecision p, ResolveDensePrecision(FLAGS_dense_precision));
  SetDensePrecision(p);
  return p;
}

data::CsvColumns CsvColumnsFromFlags() {
  auto names = [](const std::string& list) {
    std::vector<std::string> out;
    std::stringstream in(list);
    for (std::string name; std::getline(in, name, ',');) {
      if (!name.empty()) out.push_back(name);
    }
    return out;
  };
  data::CsvColumns c;
  c.label = FLAGS_label_column;
  c.numeric = names(FLAGS_numeric_columns);
  c.categorical = names(FLAGS_categorical_columns);
  c.ignore = names(FLAGS_ignore_columns);
  return c;
}

StatusOr<ModelSpec> ModelSpecFromFlags(data::Format format, const data::SideFeatures* side,
                                       const data::CsvSchema* csv) {
  if (!data::HasLabels(format)) {
    return InvalidArgument(std::string(data::FormatName(format)) +
                           " data has no labels: training needs labeled rows (embedps predict scores unlabeled ones)");
  }
  ModelSpec s;
  s.model = FLAGS_model;
  const bool rating = data::IsRatingFormat(format);
  // NCF learns from implicit feedback: any observed rating is a positive.
  s.objective = rating && s.model != "ncf" ? Objective::kRating : Objective::kBinary;
  s.factors = FLAGS_factors;
  s.l2 = static_cast<float>(FLAGS_l2);
  s.bias_l2 = static_cast<float>(FLAGS_bias_l2);
  s.init_scale = static_cast<float>(FLAGS_init_scale);
  s.dense_scale = static_cast<float>(FLAGS_dense_feature_scale);
  s.negatives = FLAGS_negatives;
  s.min_rating = static_cast<float>(FLAGS_min_rating);
  s.max_rating = static_cast<float>(FLAGS_max_rating);
  if (s.model == "mf" || s.model == "hybrid") {
    if (!FlagWasSet("factors")) s.factors = 64;
    if (!FlagWasSet("l2")) s.l2 = 0.1f;
  }
  // Measured on ML-100K leave-one-out (docs/results.md).
  if (s.model == "ncf" && !FlagWasSet("factors")) s.factors = 32;
  if (!FLAGS_hidden.empty()) {
    ASSIGN_OR_RETURN(s.hidden, ParseSizes(FLAGS_hidden));
  } else if (s.model == "ncf") {
    s.hidden = {64, 32, 16};
  }
  if (data::SameFeatures(format, data::Format::kCriteo)) {
    // DeepFM's MLP reads the 26 categorical fields' embeddings and the 13
    // integers as dense features (the FM part also sees the integers'
    // buckets).
    s.first_field = data::kCriteoIntFields;
    s.fields = data::kCriteoCatFields;
    s.dense_features = data::kCriteoIntFields;
  } else if (format == data::Format::kCsv) {
    if (csv == nullptr) return Internal("csv data without its schema");
    // The same layout: numeric columns, then categorical ones, then the bias.
    s.first_field = csv->numeric_fields();
    s.fields = csv->categorical_fields();
    s.dense_features = csv->numeric_fields();
  } else {
    s.dense_features = 0;
  }
  if (s.model == "deepfm" && format == data::Format::kLibsvm) {
    // DeepFM's MLP reads one embedding per field; libsvm has one field.
    return InvalidArgument("--model deepfm needs data with fields (criteo); libsvm puts every feature in one field: "
                           "train lr or fm on it");
  }
  if (side != nullptr) s.item_fields = side->item_fields();
  if (s.model == "hybrid" && side == nullptr) {
    return InvalidArgument("--model hybrid needs --user_features and/or --item_features");
  }
  RETURN_IF_ERROR(ValidateModelSpec(s));
  return s;
}

std::vector<std::pair<std::string, std::string>> ModelSpecFlagValues(const ModelSpec& spec) {
  std::string hidden;
  for (int h : spec.hidden) hidden += (hidden.empty() ? "" : ",") + std::to_string(h);
  // Floats at full precision: the flag's double rounds back to the same float.
  auto real = [](float v) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.9g", static_cast<double>(v));
    return std::string(text);
  };
  return {{"model", spec.model},
          {"factors", std::to_string(spec.factors)},
          {"l2", real(spec.l2)},
          {"bias_l2", real(spec.bias_l2)},
          {"init_scale", real(spec.init_scale)},
          {"dense_feature_scale", real(spec.dense_scale)},
          {"hidden", hidden},
          {"negatives", std::to_string(spec.negatives)},
          {"min_rating", real(spec.min_rating)},
          {"max_rating", real(spec.max_rating)}};
}

std::vector<std::string> ModelFlagArgs() {
  std::vector<std::string> args;
  for (const char* name : {"model", "factors", "l2", "bias_l2", "init_scale", "dense_feature_scale", "hidden", "negatives",
                           "min_rating", "max_rating", "user_features", "item_features", "user_features_spec",
                           "item_features_spec", "label_column", "numeric_columns", "categorical_columns",
                           "ignore_columns", "dense_precision"}) {
    // Only flags set explicitly: the workers then apply the same per-model
    // defaults as the launcher.
    std::string value;
    if (FlagWasSet(name) && gflags::GetCommandLineOption(name, &value)) {
      args.push_back(std::string("--") + name + "=" + value);
    }
  }
  return args;
}

StatusOr<std::unique_ptr<data::SideFeatures>> SideFeaturesFromFlags() {
  if (FLAGS_user_features.empty() && FLAGS_item_features.empty()) {
    for (const char* spec : {"user_features_spec", "item_features_spec"}) {
      if (FlagWasSet(spec)) return InvalidArgument(std::string("--") + spec + " needs its side file");
    }
    return std::unique_ptr<data::SideFeatures>();
  }
  auto side = std::make_unique<data::SideFeatures>();
  for (const auto& [which, file, spec] :
       {std::tuple{data::Side::kUser, FLAGS_user_features, FLAGS_user_features_spec},
        std::tuple{data::Side::kItem, FLAGS_item_features, FLAGS_item_features_spec}}) {
    const std::string flag = std::string("--") + data::SideName(which) + "_features";
    if (file.empty()) {
      if (!spec.empty()) return InvalidArgument(flag + "_spec needs " + flag);
      continue;
    }
    RETURN_IF_ERROR(side->LoadDetected(which, file, spec).WithContext(flag));
  }
  return side;
}

}  // namespace embedps::worker
