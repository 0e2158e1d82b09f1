#include "worker/model/deepfm_model.h"
#include "worker/model/factor_models.h"
#include "worker/model/model_spec.h"
#include "worker/model/ncf_model.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "common/hash.h"
#include "common/rating_metrics.h"
#include "tests/support/in_process_trainer.h"
#include "tests/support/test_dirs.h"

namespace embedps::worker {
namespace {

// The finite-difference checks below run the dense layers' products in
// float32 (bf16's 8-bit mantissa is far coarser than a central
// difference); BfloatGradientsFollowFloat32 checks bf16 against float32.
const bool kFloat32Products = [] {
  SetDensePrecision(DensePrecision::kFp32);
  return true;
}();

data::Example Rating(uint64_t user, uint64_t item, float rating) {
  data::Example ex;
  ex.label = rating;
  ex.user = user;
  ex.item = item;
  ex.AddFeature(0, HashCombine(0, user));
  ex.AddFeature(1, HashCombine(1, item));
  return ex;
}

// Summed loss of the model on one example for given rows (for finite
// differences): Step's loss with l2 = 0 is the plain loss.
double LossAt(Model& m, const std::vector<data::Example>& batch, const TableRows& rows) {
  TableRows grads;
  return m.Step(batch, rows, &grads);
}

// Checks Step's gradients against central differences of its loss. For the
// rating objective Step returns (y-r)^2 and the gradient of half of it.
void CheckGradients(Model& m, const std::vector<data::Example>& batch, double loss_scale) {
  m.Prepare(batch);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  TableRows rows(m.tables().size());
  for (size_t t = 0; t < rows.size(); ++t) {
    rows[t].resize(m.Keys(t).size() * m.tables()[t].dim);
    for (float& v : rows[t]) v = normal(rng);
  }
  TableRows grads;
  m.Step(batch, rows, &grads);
  const float eps = 1e-2f;
  for (size_t t = 0; t < rows.size(); ++t) {
    for (size_t i = 0; i < rows[t].size(); ++i) {
      TableRows plus = rows, minus = rows;
      plus[t][i] += eps;
      minus[t][i] -= eps;
      const double numeric = (LossAt(m, batch, plus) - LossAt(m, batch, minus)) / (2 * eps) * loss_scale;
      EXPECT_NEAR(grads[t][i], numeric, 2e-3 + 2e-2 * std::fabs(numeric))
          << "table " << m.tables()[t].name << " coordinate " << i;
    }
  }
}

TEST(FactorModels, FmGradientsMatchFiniteDifferences) {
  FactorModelOptions o;
  o.factors = 4;
  FmModel fm(o);
  std::vector<data::Example> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].label = i % 2;
    for (int f = 0; f < 5; ++f) batch[i].AddFeature(f, HashCombine(f, (i + f) % 3), 0.5f + f * 0.25f);
  }
  CheckGradients(fm, batch, 1.0);
}

TEST(FactorModels, MfGradientsMatchFiniteDifferences) {
  FactorModelOptions o;
  o.factors = 4;
  o.objective = Objective::kRating;
  MfModel mf(o, "mf");
  std::vector<data::Example> batch = {Rating(1, 10, 4), Rating(2, 10, 2), Rating(1, 11, 5)};
  batch[0].AddFeature(2, HashCombine(2, 99));  // a user-side attribute
  batch[2].AddFeature(1, HashCombine(1, 77), 0.5f);  // a second item-side feature
  CheckGradients(mf, batch, 0.5);
}

TEST(FactorModels, DeepFmGradientsMatchFiniteDifferences) {
  DeepFmOptions o;
  o.fm.factors = 2;
  o.fields = 3;
  o.dense_features = 2;
  o.hidden = {4, 3};
  DeepFmModel deepfm(o);
  ASSERT_EQ(deepfm.tables().size(), 1u + 2 * 3);  // factors + (w, b) per layer
  std::vector<data::Example> batch(4);
  for (int i = 0; i < 4; ++i) {
    batch[i].label = i % 2;
    for (int f = 0; f < 4; ++f) batch[i].AddFeature(f, HashCombine(f, (i + f) % 3));  // field 3: FM only
    batch[i].dense = {0.5f * i, 1.0f - 0.25f * i};
  }
  CheckGradients(deepfm, batch, 1.0);
}

// The Criteo layout: the MLP reads a window of fields that does not start at
// field 0 (fields 1..2 here; 0 and 3 are FM only), and scaled dense inputs.
TEST(FactorModels, DeepFmFieldWindowAndDenseScaleGradientsMatchFiniteDifferences) {
  DeepFmOptions o;
  o.fm.factors = 2;
  o.first_field = 1;
  o.fields = 2;
  o.dense_features = 2;
  o.dense_scale = 0.5f;
  o.hidden = {4, 3};
  DeepFmModel deepfm(o);
  std::vector<data::Example> batch(4);
  for (int i = 0; i < 4; ++i) {
    batch[i].label = i % 2;
    for (int f = 0; f < 4; ++f) batch[i].AddFeature(f, HashCombine(f, (i + f) % 3));
    batch[i].dense = {0.5f * i, 1.0f - 0.25f * i};
  }
  CheckGradients(deepfm, batch, 1.0);
  // The window changes the model: the same rows score differently when the
  // MLP reads fields 0..1 instead.
  DeepFmOptions shifted = o;
  shifted.first_field = 0;
  DeepFmModel other(shifted);
  ASSERT_EQ(other.tables().size(), deepfm.tables().size());
  deepfm.Prepare(batch);
  other.Prepare(batch);
  TableRows rows(deepfm.tables().size());
  for (size_t t = 0; t < rows.size(); ++t) {
    rows[t].resize(deepfm.Keys(t).size() * deepfm.tables()[t].dim);
    // Positive MLP weights keep every ReLU open, so the output depends on
    // which embeddings the MLP reads.
    for (size_t j = 0; j < rows[t].size(); ++j) {
      rows[t][j] = t == 0 ? 0.8f * std::sin(1.0f + 0.37f * j) : 0.3f + 0.2f * std::sin(1.0f + j + 7.0f * t);
    }
  }
  std::vector<float> a, b;
  deepfm.Predict(batch, rows, &a);
  other.Predict(batch, rows, &b);
  ASSERT_EQ(a.size(), b.size());
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += std::abs(a[i] - b[i]);
  EXPECT_GT(diff, 1e-4);
}

// bf16 products (float32 accumulation) give the float32 gradients to within
// bf16's precision: an 8-bit mantissa, about 0.4% per rounding. `bf16` and
// `fp32` are the same model built in each precision; rows are drawn from
// `rng`. `tolerance` bounds each table's relative L2 error.
void CheckBfloatFollowsFloat32(Model& bf16, Model& fp32, const std::vector<data::Example>& batch, std::mt19937& rng,
                               double tolerance) {
  bf16.Prepare(batch);
  fp32.Prepare(batch);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  TableRows rows(fp32.tables().size());
  for (size_t t = 0; t < rows.size(); ++t) {
    rows[t].resize(fp32.Keys(t).size() * fp32.tables()[t].dim);
    for (float& v : rows[t]) v = normal(rng);
  }
  TableRows g16, g32;
  const double loss16 = bf16.Step(batch, rows, &g16), loss32 = fp32.Step(batch, rows, &g32);
  EXPECT_NEAR(loss16, loss32, 0.01 * std::fabs(loss32));
  // Relative L2 error per table: a ReLU whose input sits at zero may open
  // in one precision and not the other, so single entries can differ by
  // more; the whole gradient may not. Each layer's backward product rounds
  // its inputs to bf16 again, so the first layer's error is a few times
  // one rounding's (measured: 0.4% for the last layer, 4% for the first).
  for (size_t t = 0; t < rows.size(); ++t) {
    double norm = 0, error = 0;
    for (size_t i = 0; i < g32[t].size(); ++i) {
      norm += double(g32[t][i]) * g32[t][i];
      error += double(g16[t][i] - g32[t][i]) * (g16[t][i] - g32[t][i]);
    }
    std::printf("%s table %s: relative error %.4f\n", fp32.name().c_str(), fp32.tables()[t].name.c_str(),
                std::sqrt(error / norm));
    EXPECT_LE(std::sqrt(error), tolerance * std::sqrt(norm)) << "table " << fp32.tables()[t].name;
    EXPECT_GT(error, 0.0) << "table " << fp32.tables()[t].name << ": the bf16 products did not run";
  }
}

TEST(FactorModels, BfloatGradientsFollowFloat32) {
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 matrix instructions (AVX-512 BF16 or AMX)";
  DeepFmOptions o;
  o.fm.factors = 8;
  o.fields = 6;
  o.dense_features = 3;
  o.hidden = {32, 16};
  SetDensePrecision(DensePrecision::kBf16);
  DeepFmModel bf16(o);
  SetDensePrecision(DensePrecision::kFp32);
  DeepFmModel fp32(o);
  std::vector<data::Example> batch(64);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (int i = 0; i < 64; ++i) {
    batch[i].label = i % 3 == 0;
    for (int f = 0; f < 6; ++f) batch[i].AddFeature(f, HashCombine(f, (i * 7 + f) % 11));
    batch[i].dense = {normal(rng), normal(rng), normal(rng)};
  }
  CheckBfloatFollowsFloat32(bf16, fp32, batch, rng, 0.06);
}

// NCF's tower ends in a ReLU (float32 output) and feeds a one-layer head:
// the layer shapes DeepFM does not have.
TEST(FactorModels, NcfBfloatGradientsFollowFloat32) {
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 matrix instructions (AVX-512 BF16 or AMX)";
  NcfOptions o;
  o.factors = 8;
  o.hidden = {32, 16, 8};
  SetDensePrecision(DensePrecision::kBf16);
  NcfModel bf16(o);
  SetDensePrecision(DensePrecision::kFp32);
  NcfModel fp32(o);
  std::vector<data::Example> batch;
  for (int i = 0; i < 64; ++i) batch.push_back(Rating(i % 13, 100 + (i * 5) % 17, i % 3 == 0));
  // Three hidden layers round their inputs in both passes, and the tower's
  // output ReLU adds one more place where a unit can flip: measured 5-9%
  // per table on this machine (AVX-512 BF16), against up to 4% for
  // DeepFM's two; a lost ReLU mask or transposed product gives ~100%.
  std::mt19937 rng(3);
  CheckBfloatFollowsFloat32(bf16, fp32, batch, rng, 0.15);
}

TEST(FactorModels, NcfGradientsMatchFiniteDifferences) {
  NcfOptions o;
  o.factors = 3;
  o.hidden = {5, 4};
  o.l2 = 0.01f;
  NcfModel ncf(o);
  std::vector<data::Example> batch = {Rating(1, 10, 1), Rating(2, 10, 0), Rating(1, 11, 1), Rating(3, 12, 0)};
  // l2 terms are not in Step's loss: check without them, then their effect.
  NcfOptions plain = o;
  plain.l2 = 0;
  NcfModel ncf_plain(plain);
  CheckGradients(ncf_plain, batch, 1.0);
  ncf.Prepare(batch);
  TableRows rows(ncf.tables().size()), g1, g2;
  for (size_t t = 0; t < rows.size(); ++t) rows[t].assign(ncf.Keys(t).size() * ncf.tables()[t].dim, 0.5f);
  ncf.Step(batch, rows, &g1);
  ncf_plain.Prepare(batch);
  ncf_plain.Step(batch, rows, &g2);
  // User 1 appears twice: its embedding gets 2 * l2 * 0.5 more gradient.
  EXPECT_NEAR(g1[0][0] - g2[0][0], 2 * 0.01f * 0.5f, 1e-6);
}

TEST(FactorModels, FmScoreIsThePairwiseSum) {
  // With explicit rows, the FM score must equal the brute-force pairwise sum.
  FactorModelOptions o;
  o.factors = 3;
  FmModel fm(o);
  data::Example ex;
  for (int f = 0; f < 4; ++f) ex.AddFeature(f, HashCombine(f, 1), 1.0f + f);
  std::vector<data::Example> batch = {ex};
  fm.Prepare(batch);
  TableRows rows(1, std::vector<float>(fm.Keys(0).size() * 4));
  for (size_t i = 0; i < rows[0].size(); ++i) rows[0][i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  std::vector<float> scores;
  fm.Predict(batch, rows, &scores);
  // Slot 0 is the global key; features take slots 1..4 in order.
  auto row = [&](int slot) { return &rows[0][slot * 4]; };
  double y = row(0)[0];
  for (int j = 0; j < 4; ++j) y += row(j + 1)[0] * ex.values[j];
  for (int j = 0; j < 4; ++j) {
    for (int l = j + 1; l < 4; ++l) {
      double dot = 0;
      for (int d = 1; d <= 3; ++d) dot += row(j + 1)[d] * row(l + 1)[d];
      y += dot * ex.values[j] * ex.values[l];
    }
  }
  EXPECT_NEAR(scores[0], 1.0 / (1.0 + std::exp(-y)), 1e-5);
}

// Ratings from a planted rank-3 model plus noise of std-dev 0.3: a trained MF
// must get close to the noise floor on held-out pairs, far below predicting
// the global mean.
TEST(FactorModels, MfRecoversAPlantedLowRankModel) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int users = 300, items = 200, rank = 3;
  std::vector<float> p(users * rank), q(items * rank), bu(users), bi(items);
  for (float& v : p) v = 0.6f * normal(rng);
  for (float& v : q) v = 0.6f * normal(rng);
  for (float& v : bu) v = 0.3f * normal(rng);
  for (float& v : bi) v = 0.3f * normal(rng);
  std::vector<data::Example> train, test;
  std::uniform_real_distribution<float> coin(0, 1);
  for (int u = 0; u < users; ++u) {
    for (int i = 0; i < items; ++i) {
      if (coin(rng) > 0.25f) continue;
      float r = 3.0f + bu[u] + bi[i] + 0.3f * normal(rng);
      for (int d = 0; d < rank; ++d) r += p[u * rank + d] * q[i * rank + d];
      (coin(rng) < 0.8f ? train : test).push_back(Rating(u, i, r));
    }
  }
  std::shuffle(train.begin(), train.end(), rng);
  FactorModelOptions o;
  o.factors = 8;
  o.l2 = 0.02f;
  o.bias_l2 = 0.02f;
  o.objective = Objective::kRating;
  o.min_rating = -100;
  o.max_rating = 100;
  MfModel mf(o, "mf");
  ps::OptimizerConfig opt;
  opt.name = "adagrad";
  opt.learning_rate = 0.1f;
  auto trainer = testing::InProcessTrainer::Create(&mf, opt);
  ASSERT_TRUE(trainer.ok()) << trainer.status().ToString();
  for (int epoch = 0; epoch < 40; ++epoch) (*trainer)->TrainEpoch(train, 100);
  std::vector<float> targets;
  for (const auto& ex : test) targets.push_back(ex.label);
  double mean = 0;
  for (float t : targets) mean += t;
  mean /= targets.size();
  const double rmse = Rmse((*trainer)->Predict(test), targets);
  const double baseline = Rmse(std::vector<float>(targets.size(), static_cast<float>(mean)), targets);
  EXPECT_LT(rmse, 0.45) << "noise floor 0.30, global-mean baseline " << baseline;
  EXPECT_GT(baseline, 0.7);
  std::printf("planted MF: held-out RMSE %.4f (noise 0.30, global mean %.4f)\n", rmse, baseline);
}

}  // namespace
}  // namespace embedps::worker

namespace embedps::worker {
namespace {

TEST(ModelSpec, RoundTripsThroughJsonAndBuildsEveryModel) {
  for (const char* name : {"lr", "fm", "deepfm", "mf", "hybrid", "ncf"}) {
    ModelSpec spec;
    spec.model = name;
    spec.objective = (spec.model == "mf" || spec.model == "hybrid") ? Objective::kRating : Objective::kBinary;
    spec.factors = 8;
    spec.hidden = {16, 8};
    spec.item_fields = {1, 5};
    spec.first_field = 13;
    spec.fields = 26;
    spec.dense_scale = 0.25f;
    auto back = ModelSpecFromJson(ModelSpecToJson(spec));
    ASSERT_TRUE(back.ok()) << name << ": " << back.status().ToString();
    EXPECT_EQ(ModelSpecToJson(*back), ModelSpecToJson(spec));
    auto model = MakeModel(*back);
    ASSERT_TRUE(model.ok()) << name << ": " << model.status().ToString();
    EXPECT_EQ((*model)->name(), spec.model);
  }
}

// Exports written before the MLP's field window and dense scale existed
// fed it every field from 0 and the raw dense features.
TEST(ModelSpec, OlderMetadataKeepsTheMlpInputItWasTrainedWith) {
  ModelSpec spec;
  spec.model = "deepfm";
  nlohmann::json j = ModelSpecToJson(spec);
  j.erase("first_field");
  j.erase("dense_scale");
  auto back = ModelSpecFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->first_field, 0u);
  EXPECT_EQ(back->dense_scale, 1.0f);
  j["dense_scale"] = -1;
  EXPECT_FALSE(ModelSpecFromJson(j).ok());
}

TEST(ModelSpec, RefusesBadSpecsWithReasons) {
  ModelSpec spec;
  spec.model = "gbdt";
  EXPECT_NE(ValidateModelSpec(spec).message().find("unknown model"), std::string::npos);
  spec.model = "mf";
  EXPECT_NE(ValidateModelSpec(spec).message().find("rating data"), std::string::npos);
  spec.objective = Objective::kRating;
  spec.factors = 0;
  EXPECT_NE(ValidateModelSpec(spec).message().find("--factors"), std::string::npos);
  auto bad = ModelSpecFromJson(nlohmann::json{{"model", "fm"}});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace embedps::worker
