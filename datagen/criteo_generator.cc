#include "datagen/criteo_generator.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <utility>
#include <vector>

#include <glog/logging.h>
#include <nlohmann/json.hpp>

#include "common/eval_metrics.h"
#include "common/hash.h"
#include "datagen/zipf.h"
// Only for the field counts and the inline BucketizeInteger: integer weights
// are planted on exactly the buckets the parser produces, so a linear model
// over the parser's keys can represent them.
#include "common/criteo_format.h"

namespace embedps::datagen {
namespace {

using data::kCriteoCatFields;
using data::kCriteoIntFields;

// ---- Knobs of the planted model. Changing any of them changes every file
// generated from a given model_seed, so bump kModelVersion with them.
constexpr int kModelVersion = 2;
// Categorical vocabularies are log-spaced between these sizes, as Criteo's
// range from a handful of values to millions.
constexpr double kMinVocab = 10;
constexpr double kMaxVocab = 5e6;
constexpr double kMinZipfS = 1.05;
constexpr double kMaxZipfS = 1.2;
// Typical weight scale of one categorical field; each field's own scale is
// spread log-normally around it so some fields matter much more than others.
constexpr double kCatScale = 0.19;
constexpr double kCatScaleSpread = 0.5;
constexpr double kIntScale = 0.135;
// Interactions (model version 2). Each category of the first
// kLatentFields fields (the smaller vocabularies, whose values recur often
// enough to be learnable in one pass) has a latent vector of kLatentDim
// Gaussian coordinates times the field's latent scale, and the logit gains
//  - a pairwise term sum_{a<b} <u_a, u_b>: low rank, the structure a
//    factorization machine represents and a linear model cannot;
//  - a deep term: a fixed random one-hidden-layer ReLU network over the
//    concatenated latent vectors, signal of every order that an MLP over the
//    field embeddings (DeepFM) can learn and an FM only partly.
// Version 1 planted random tables over value pairs instead, which no
// low-rank model can represent: FM and DeepFM learned no more than LR.
constexpr int kLatentFields = 14;
constexpr int kLatentDim = 4;
constexpr double kLatentScale = 0.21;
constexpr double kLatentScaleSpread = 0.3;
constexpr int kDeepHidden = 16;
constexpr double kDeepScale = 1.2;
constexpr double kTargetPositiveRate = 0.25;
constexpr int kCalibrationRows = 100000;
// Integer values are capped so that formatting never sees absurd magnitudes.
constexpr double kMaxIntValue = 1e9;

// Salts separating the hash streams of the model's independent choices.
enum Salt : uint64_t {
  kSaltVocab = 1,
  kSaltZipf,
  kSaltScale,
  kSaltEmpty,
  kSaltToken,
  kSaltWeight,
  kSaltIntShape,
  kSaltIntWeight,
  kSaltLatent,
  kSaltLatentScale,
  kSaltDeep,
  kSaltCalibration,
  kSaltRows,
  kSaltGauss,
};
// Bucket id used for an absent integer; far from any real bucket.
constexpr uint64_t kMissingBucket = 0x6d697373696e67ULL;

// SplitMix64: a tiny, fast generator whose output is identical everywhere,
// which std distributions do not guarantee.
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }

 private:
  uint64_t state_;
};

double Unit(SplitMix64& rng) { return HashToUnit(rng()); }

// Standard normal from two uniforms (Box-Muller); u1 is taken from (0, 1].
double BoxMuller(double u1, double u2) {
  constexpr double kTwoPi = 6.283185307179586;
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(kTwoPi * u2);
}

// A standard normal that is a pure function of `h`: weights must come out the
// same whenever (model_seed, field, category) recurs, in any file.
double GaussianFromHash(uint64_t h) {
  return BoxMuller(HashToUnit(h), HashToUnit(HashCombine(h, kSaltGauss)));
}

double GaussianFromRng(SplitMix64& rng) {
  const double u1 = Unit(rng);
  return BoxMuller(u1, Unit(rng));
}

// Root of every deterministic choice: (model, purpose, index).
uint64_t ModelHash(uint64_t model_seed, uint64_t salt, uint64_t index) {
  return HashCombine(HashCombine(model_seed, salt), index);
}

struct CatField {
  uint64_t vocab = 0;
  double zipf_s = 0;
  double empty_prob = 0;
  double scale = 0;
  uint64_t token_salt = 0;
  uint64_t weight_salt = 0;
};

struct IntField {
  double empty_prob = 0;
  double mu = 0;     // log-normal location of value + offset
  double sigma = 0;  // log-normal shape
  int64_t offset = 1;
  double scale = 0;
  double trend = 0;   // strength and sign of the smooth part of the weight
  double center = 0;  // bucket where the smooth part crosses zero
  uint64_t weight_salt = 0;
};

// One hidden unit of the planted deep term: relu(<w, u> / norm + shift),
// weighted by `out`. `norm` makes <w, u> about unit variance.
struct DeepUnit {
  std::array<double, kLatentFields * kLatentDim> w{};
  double norm = 1;
  double shift = 0;
  double out = 0;
};

// Parts of the true logit, kept apart so meta.json can say how much of the
// signal each model class can reach.
struct LogitParts {
  double linear = 0;
  double pairwise = 0;
  double deep = 0;
  double Sum() const { return linear + pairwise + deep; }
};

// Raw features of one row; category 0 means the field is empty.
struct Row {
  std::array<uint64_t, kCriteoCatFields> cats{};
  std::array<int64_t, kCriteoIntFields> ints{};
  std::array<bool, kCriteoIntFields> int_present{};
};

// The planted click model: how rows are drawn and their true click logit.
class PlantedModel {
 public:
  explicit PlantedModel(uint64_t model_seed);

  // Draws the raw features of one row.
  void Sample(SplitMix64& rng, Row* row) const;
  // True click logit of a row, and its parts without the bias.
  double Logit(const Row& row, LogitParts* parts) const {
    *parts = Parts(row);
    return bias_ + parts->Sum();
  }
  // Appends the row as one Criteo line (with newline) at p; returns the end.
  char* Format(const Row& row, int label, char* p) const;
  // The model's parameters for meta.json.
  nlohmann::json Describe() const;

 private:
  LogitParts Parts(const Row& row) const;
  // Latent vector of category c of latent field j (zero for the empty one).
  void Latent(int j, uint64_t c, double* u) const;
  // Sets bias_ so that the expected positive rate is kTargetPositiveRate, on a
  // fixed sample drawn from model_seed (so the bias is part of the model).
  void CalibrateBias(uint64_t model_seed);

  std::array<CatField, kCriteoCatFields> cat_;
  std::vector<ZipfSampler> zipf_;
  std::array<IntField, kCriteoIntFields> int_;
  std::array<double, kLatentFields> latent_scale_{};
  std::array<uint64_t, kLatentFields> latent_salt_{};
  std::vector<DeepUnit> deep_;
  double bias_ = 0;
};

PlantedModel::PlantedModel(uint64_t model_seed) {
  for (int j = 0; j < kCriteoCatFields; ++j) {
    CatField& f = cat_[j];
    const double t = static_cast<double>(j) / (kCriteoCatFields - 1);
    f.vocab = static_cast<uint64_t>(std::llround(kMinVocab * std::pow(kMaxVocab / kMinVocab, t)));
    const double zipf_u = HashToUnit(ModelHash(model_seed, kSaltZipf, j));
    f.zipf_s = kMinZipfS + (kMaxZipfS - kMinZipfS) * zipf_u;
    f.scale = kCatScale *
              std::exp(kCatScaleSpread * GaussianFromHash(ModelHash(model_seed, kSaltScale, j)));
    // About a quarter of the fields are sometimes empty, as in Criteo.
    const uint64_t e = ModelHash(model_seed, kSaltEmpty, j);
    if (HashToUnit(e) < 0.25) f.empty_prob = 0.02 + 0.3 * HashToUnit(Mix64(e));
    f.token_salt = ModelHash(model_seed, kSaltToken, j);
    f.weight_salt = ModelHash(model_seed, kSaltWeight, j);
    zipf_.emplace_back(f.vocab, f.zipf_s);
  }
  for (int i = 0; i < kCriteoIntFields; ++i) {
    IntField& f = int_[i];
    const uint64_t h = ModelHash(model_seed, kSaltIntShape, i);
    f.mu = 0.3 + 3.5 * HashToUnit(h);
    f.sigma = 0.5 + 1.3 * HashToUnit(Mix64(h));
    // One field goes negative like Criteo's I2.
    f.offset = i == 1 ? 3 : 1;
    f.empty_prob = HashToUnit(Mix64(h + 1)) < 0.4 ? 0.4 * HashToUnit(Mix64(h + 2)) : 0;
    f.scale = kIntScale * std::exp(0.4 * GaussianFromHash(Mix64(h + 3)));
    f.trend = 2 * HashToUnit(Mix64(h + 4)) - 1;
    f.center = f.mu * f.mu;  // bucket of the median value: floor(ln(e^mu)^2)
    f.weight_salt = ModelHash(model_seed, kSaltIntWeight, i);
  }
  for (int j = 0; j < kLatentFields; ++j) {
    latent_scale_[j] = kLatentScale * std::exp(kLatentScaleSpread *
                                                GaussianFromHash(ModelHash(model_seed, kSaltLatentScale, j)));
    latent_salt_[j] = ModelHash(model_seed, kSaltLatent, j);
  }
  for (int h = 0; h < kDeepHidden; ++h) {
    DeepUnit unit;
    const uint64_t base = ModelHash(model_seed, kSaltDeep, h);
    double var = 0;
    for (int i = 0; i < kLatentFields * kLatentDim; ++i) {
      unit.w[i] = GaussianFromHash(HashCombine(base, i));
      const double s = latent_scale_[i / kLatentDim];
      var += unit.w[i] * unit.w[i] * s * s;
    }
    unit.norm = 1.0 / std::sqrt(var);
    // Shifts below zero make most units fire on a minority of rows, which
    // keeps the term far from linear.
    unit.shift = -1.0 + 1.2 * HashToUnit(HashCombine(base, kSaltScale));
    unit.out = GaussianFromHash(HashCombine(base, kSaltWeight)) / std::sqrt(kDeepHidden);
    deep_.push_back(unit);
  }
  CalibrateBias(model_seed);
}

void PlantedModel::Sample(SplitMix64& rng, Row* row) const {
  for (int j = 0; j < kCriteoCatFields; ++j) {
    const CatField& f = cat_[j];
    if (f.empty_prob > 0 && Unit(rng) < f.empty_prob) {
      row->cats[j] = 0;
    } else {
      row->cats[j] = zipf_[j](rng);
    }
  }
  for (int i = 0; i < kCriteoIntFields; ++i) {
    const IntField& f = int_[i];
    if (f.empty_prob > 0 && Unit(rng) < f.empty_prob) {
      row->int_present[i] = false;
      continue;
    }
    const double v = std::min(std::exp(f.mu + f.sigma * GaussianFromRng(rng)), kMaxIntValue);
    row->int_present[i] = true;
    row->ints[i] = static_cast<int64_t>(v) - f.offset;
  }
}

void PlantedModel::Latent(int j, uint64_t c, double* u) const {
  if (c == 0) {
    std::fill(u, u + kLatentDim, 0.0);
    return;
  }
  const uint64_t h = HashCombine(latent_salt_[j], c);
  for (int d = 0; d < kLatentDim; ++d) u[d] = latent_scale_[j] * GaussianFromHash(HashCombine(h, d));
}

LogitParts PlantedModel::Parts(const Row& row) const {
  LogitParts parts;
  double& z = parts.linear;
  for (int j = 0; j < kCriteoCatFields; ++j) {
    // The empty category (0) gets a weight of its own like any category.
    z += cat_[j].scale * GaussianFromHash(HashCombine(cat_[j].weight_salt, row.cats[j]));
  }
  for (int i = 0; i < kCriteoIntFields; ++i) {
    const IntField& f = int_[i];
    if (!row.int_present[i]) {
      z += f.scale * GaussianFromHash(HashCombine(f.weight_salt, kMissingBucket));
      continue;
    }
    const int64_t b = data::BucketizeInteger(row.ints[i]);
    // A smooth trend over buckets plus per-bucket noise: counts tend to push
    // clicks one way, but not perfectly monotonically.
    z += f.scale * (f.trend * std::tanh((static_cast<double>(b) - f.center) / 4) +
                    0.5 * GaussianFromHash(HashCombine(f.weight_salt, static_cast<uint64_t>(b))));
  }
  // sum_{a<b} <u_a, u_b> = (|sum_a u_a|^2 - sum_a |u_a|^2) / 2.
  std::array<double, kLatentFields * kLatentDim> u;
  std::array<double, kLatentDim> sum{};
  double squares = 0;
  for (int j = 0; j < kLatentFields; ++j) {
    double* uj = u.data() + j * kLatentDim;
    Latent(j, row.cats[j], uj);
    for (int d = 0; d < kLatentDim; ++d) {
      sum[d] += uj[d];
      squares += uj[d] * uj[d];
    }
  }
  double total = 0;
  for (double s : sum) total += s * s;
  parts.pairwise = 0.5 * (total - squares);
  for (const DeepUnit& unit : deep_) {
    double p = 0;
    for (size_t i = 0; i < u.size(); ++i) p += unit.w[i] * u[i];
    parts.deep += unit.out * std::max(0.0, p * unit.norm + unit.shift);
  }
  parts.deep *= kDeepScale;
  return parts;
}

void PlantedModel::CalibrateBias(uint64_t model_seed) {
  SplitMix64 rng(ModelHash(model_seed, kSaltCalibration, 0));
  std::vector<double> logits(kCalibrationRows);
  Row row;
  for (double& z : logits) {
    Sample(rng, &row);
    z = Parts(row).Sum();
  }
  // The mean probability grows monotonically with the bias: bisect.
  double lo = -30, hi = 30;
  for (int iter = 0; iter < 60; ++iter) {
    const double mid = 0.5 * (lo + hi);
    double mean = 0;
    for (double z : logits) mean += 1.0 / (1.0 + std::exp(-(z + mid)));
    mean /= kCalibrationRows;
    (mean < kTargetPositiveRate ? lo : hi) = mid;
  }
  bias_ = 0.5 * (lo + hi);
}

char* PlantedModel::Format(const Row& row, int label, char* p) const {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = static_cast<char>('0' + label);
  for (int i = 0; i < kCriteoIntFields; ++i) {
    *p++ = '\t';
    // 24 bytes is room for any int64.
    if (row.int_present[i]) p = std::to_chars(p, p + 24, row.ints[i]).ptr;
  }
  for (int j = 0; j < kCriteoCatFields; ++j) {
    *p++ = '\t';
    if (row.cats[j] == 0) continue;
    // Criteo tokens are 8 hex digits of a hash; collisions in the 32 bits
    // merge a few rare categories, as hashing does in the real data.
    const uint32_t token =
        static_cast<uint32_t>(HashCombine(cat_[j].token_salt, row.cats[j]) >> 32);
    for (int shift = 28; shift >= 0; shift -= 4) *p++ = kHex[(token >> shift) & 0xf];
  }
  *p++ = '\n';
  return p;
}

nlohmann::json PlantedModel::Describe() const {
  nlohmann::json cats = nlohmann::json::array();
  for (const CatField& f : cat_) {
    cats.push_back({{"vocab", f.vocab}, {"zipf_s", f.zipf_s}, {"empty_prob", f.empty_prob},
                    {"scale", f.scale}});
  }
  nlohmann::json latent = nlohmann::json::array();
  for (int j = 0; j < kLatentFields; ++j) {
    // 1-based Criteo names, as a reader of the data would call the fields.
    latent.push_back({{"field", "C" + std::to_string(j + 1)}, {"scale", latent_scale_[j]}});
  }
  return {{"version", kModelVersion},
          {"bias", bias_},
          {"categorical_fields", cats},
          {"latent_dim", kLatentDim},
          {"latent_fields", latent},
          {"deep_hidden_units", kDeepHidden}};
}

// Longest line Format can produce: label, 13 int64s, 26 tokens, separators.
constexpr size_t kMaxLineBytes = 1 + 13 * 21 + 26 * 8 + 40;
constexpr size_t kWriteBufferBytes = 4 << 20;

Status WriteAll(std::FILE* f, const char* data, size_t n, const std::string& path) {
  if (std::fwrite(data, 1, n, f) != n) {
    return DataLoss("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::OK();
}

// Closes a FILE on scope exit unless released; error paths only.
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

Status WriteMeta(const std::string& path, const nlohmann::json& meta) {
  FilePtr f(std::fopen(path.c_str(), "wb"));
  if (!f) return FailedPrecondition("cannot create " + path + ": " + std::strerror(errno));
  const std::string text = meta.dump(2) + "\n";
  RETURN_IF_ERROR(WriteAll(f.get(), text.data(), text.size(), path));
  if (std::fclose(f.release()) != 0) {
    return DataLoss("cannot close " + path + ": " + std::strerror(errno));
  }
  return Status::OK();
}

}  // namespace

StatusOr<CriteoGeneratorResult> GenerateCriteo(const CriteoGeneratorOptions& opts) {
  if (opts.rows == 0) return InvalidArgument("rows must be positive");
  if (opts.out.empty()) return InvalidArgument("output path is empty");
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();

  FilePtr f(std::fopen(opts.out.c_str(), "wb"));
  if (!f) return FailedPrecondition("cannot create " + opts.out + ": " + std::strerror(errno));
  const PlantedModel model(opts.model_seed);
  SplitMix64 rng(HashCombine(opts.seed, kSaltRows));

  std::vector<char> buf(kWriteBufferBytes + kMaxLineBytes);
  char* p = buf.data();
  std::vector<float> probs(opts.rows);
  std::vector<float> labels(opts.rows);
  // Scores of the linear part alone and of linear + pairwise, for the
  // oracle AUC of each part, and the parts' running moments.
  std::vector<float> linear_scores(opts.rows);
  std::vector<float> fm_scores(opts.rows);
  std::array<double, 3> part_sum{}, part_sq{};
  uint64_t positives = 0;
  double logloss_sum = 0;
  auto last_report = start;
  Row row;
  for (uint64_t r = 0; r < opts.rows; ++r) {
    model.Sample(rng, &row);
    LogitParts parts;
    const double z = model.Logit(row, &parts);
    linear_scores[r] = static_cast<float>(parts.linear);
    fm_scores[r] = static_cast<float>(parts.linear + parts.pairwise);
    const std::array<double, 3> values = {parts.linear, parts.pairwise, parts.deep};
    for (int k = 0; k < 3; ++k) {
      part_sum[k] += values[k];
      part_sq[k] += values[k] * values[k];
    }
    const double prob = 1.0 / (1.0 + std::exp(-z));
    const int label = Unit(rng) < prob ? 1 : 0;
    probs[r] = static_cast<float>(prob);
    labels[r] = static_cast<float>(label);
    positives += label;
    logloss_sum += LogLossFromLogit(z, static_cast<float>(label));
    p = model.Format(row, label, p);
    if (p - buf.data() >= static_cast<ptrdiff_t>(kWriteBufferBytes)) {
      RETURN_IF_ERROR(WriteAll(f.get(), buf.data(), p - buf.data(), opts.out));
      p = buf.data();
    }
    if (opts.progress && (r & 0xffff) == 0xffff) {
      const auto now = Clock::now();
      if (now - last_report >= std::chrono::seconds(2)) {
        const double secs = std::chrono::duration<double>(now - start).count();
        std::fprintf(stderr, "gen-criteo: %llu / %llu rows, %.0f rows/s\n",
                     static_cast<unsigned long long>(r + 1),
                     static_cast<unsigned long long>(opts.rows), (r + 1) / secs);
        last_report = now;
      }
    }
  }
  RETURN_IF_ERROR(WriteAll(f.get(), buf.data(), p - buf.data(), opts.out));
  if (std::fclose(f.release()) != 0) {
    return DataLoss("cannot close " + opts.out + ": " + std::strerror(errno));
  }

  CriteoGeneratorResult result;
  result.rows = opts.rows;
  result.positive_rate = static_cast<double>(positives) / static_cast<double>(opts.rows);
  result.oracle_auc = RocAuc(probs, labels);
  result.oracle_logloss = logloss_sum / static_cast<double>(opts.rows);
  result.oracle_auc_linear_part = RocAuc(linear_scores, labels);
  result.oracle_auc_without_deep_part = RocAuc(fm_scores, labels);
  const auto std_of = [&](int k) {
    const double n = static_cast<double>(opts.rows);
    const double mean = part_sum[k] / n;
    return std::sqrt(std::max(0.0, part_sq[k] / n - mean * mean));
  };
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  nlohmann::json meta = {
      {"format", "criteo"},
      {"rows", result.rows},
      {"seed", opts.seed},
      {"model_seed", opts.model_seed},
      {"positive_rate", result.positive_rate},
      {"oracle_auc", result.oracle_auc},
      {"oracle_logloss", result.oracle_logloss},
      {"oracle_auc_linear_part", result.oracle_auc_linear_part},
      {"oracle_auc_without_deep_part", result.oracle_auc_without_deep_part},
      {"logit_std", {{"linear", std_of(0)}, {"pairwise", std_of(1)}, {"deep", std_of(2)}}},
      {"model", model.Describe()},
  };
  // The size lets a later run tell this file from a truncated one.
  std::error_code size_error;
  const auto bytes = std::filesystem::file_size(opts.out, size_error);
  if (!size_error) meta["bytes"] = bytes;
  RETURN_IF_ERROR(WriteMeta(opts.out + ".meta.json", meta));
  // The caller reports the result; progress lines above are only for long runs.
  return result;
}

StatusOr<std::optional<CriteoGeneratorResult>> ExistingCriteo(const CriteoGeneratorOptions& opts) {
  std::error_code ec;
  if (!std::filesystem::exists(opts.out, ec)) return std::optional<CriteoGeneratorResult>();
  const std::string meta_path = opts.out + ".meta.json";
  std::ifstream in(meta_path);
  const nlohmann::json meta = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  const auto refuse = [&](const std::string& why) {
    return FailedPrecondition(opts.out + " exists and " + why + "; --force writes it again");
  };
  if (!meta.is_object()) return refuse("has no readable " + meta_path + " (not written by gen-criteo?)");
  const auto same = [&](const char* key, uint64_t value) {
    return meta.contains(key) && meta[key].is_number_unsigned() && meta[key].get<uint64_t>() == value;
  };
  if (!same("rows", opts.rows) || !same("seed", opts.seed) || !same("model_seed", opts.model_seed)) {
    return refuse("was generated with other settings (rows " + meta.value("rows", nlohmann::json()).dump() +
                  ", seed " + meta.value("seed", nlohmann::json()).dump() + ", model_seed " +
                  meta.value("model_seed", nlohmann::json()).dump() + ")");
  }
  if (!meta.contains("model") || meta["model"].value("version", 0) != kModelVersion) {
    return refuse("holds data of an older planted model");
  }
  const auto size = std::filesystem::file_size(opts.out, ec);
  if (ec || (meta.contains("bytes") && meta["bytes"].get<uint64_t>() != size)) {
    return refuse("does not have the size its " + meta_path + " records (truncated or changed?)");
  }
  CriteoGeneratorResult r;
  r.rows = opts.rows;
  r.positive_rate = meta.value("positive_rate", 0.0);
  r.oracle_auc = meta.value("oracle_auc", 0.0);
  r.oracle_logloss = meta.value("oracle_logloss", 0.0);
  r.oracle_auc_linear_part = meta.value("oracle_auc_linear_part", 0.0);
  r.oracle_auc_without_deep_part = meta.value("oracle_auc_without_deep_part", 0.0);
  return std::optional<CriteoGeneratorResult>(r);
}

}  // namespace embedps::datagen
