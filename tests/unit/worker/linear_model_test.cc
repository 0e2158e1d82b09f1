// The linear (LR) batch step: duplicate keys map to one slot, the loss matches a
// direct computation, and the gradient matches finite differences.
#include "worker/model/key_dedup.h"
#include "worker/model/linear_model.h"

#include <gtest/gtest.h>

#include <map>

#include <cmath>
#include <random>

#include "common/eval_metrics.h"

namespace embedps::worker {
namespace {

// Examples of 1..40 features; with `values`, feature values vary as in
// libsvm data, else they are one-hot (1).
std::vector<data::Example> Batch(int n, uint64_t key_space, uint32_t seed, bool values = false) {
  std::mt19937_64 rng(seed);
  std::vector<data::Example> batch(n);
  for (auto& ex : batch) {
    ex.label = rng() % 4 == 0 ? 1.0f : 0.0f;
    const int features = 1 + static_cast<int>(rng() % 40);
    for (int j = 0; j < features; ++j) {
      const float v = values ? static_cast<float>(rng() % 100) / 25.0f - 2.0f : 1.0f;
      ex.AddFeature(static_cast<uint16_t>(j), rng() % key_space, v);
    }
  }
  return batch;
}

TEST(KeyDedupTest, SlotsAreStableAndUnique) {
  KeyDedup d;
  d.Reset(8);
  EXPECT_EQ(d.Insert(5), 0u);
  EXPECT_EQ(d.Insert(9), 1u);
  EXPECT_EQ(d.Insert(5), 0u);
  EXPECT_EQ(d.Insert(0), 2u);
  EXPECT_EQ(d.unique_keys(), (std::vector<uint64_t>{5, 9, 0}));
  d.Reset(2);
  EXPECT_TRUE(d.unique_keys().empty());
  EXPECT_EQ(d.Insert(9), 0u);
}

TEST(KeyDedupTest, BatchInsertMatchesOneByOneAcrossManyBatches) {
  // Entries of earlier batches are told apart by generation, not cleared:
  // after many resets (and a growth) every batch must still dedup exactly.
  std::mt19937_64 rng(3);
  KeyDedup batched, single;
  for (int b = 0; b < 50; ++b) {
    const size_t n = 100 + rng() % (b < 25 ? 200 : 5000);
    std::vector<uint64_t> keys(n);
    for (auto& k : keys) k = rng() % 700;  // many repeats, and keys seen in earlier batches
    batched.Reset(n);
    single.Reset(n);
    std::vector<uint32_t> slots(n);
    batched.InsertAll(keys.data(), n, slots.data());
    std::map<uint64_t, uint32_t> first;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(slots[i], single.Insert(keys[i]));
      first.emplace(keys[i], static_cast<uint32_t>(first.size()));
      ASSERT_EQ(slots[i], first.at(keys[i])) << "slots number keys in order of first appearance";
    }
    ASSERT_EQ(batched.unique_keys().size(), first.size());
  }
}

class LinearModelTest : public ::testing::TestWithParam<bool> {};

TEST_P(LinearModelTest, LossAndGradientMatchDirectComputation) {
  auto batch = Batch(50, 30, 1, GetParam());  // few keys: many duplicates
  LinearModel model(Objective::kBinary);
  model.Prepare(batch);
  const auto& keys = model.Keys(0);
  ASSERT_LE(keys.size(), 30u);
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0, 0.3f);
  std::vector<float> w(keys.size());
  for (auto& x : w) x = normal(rng);
  TableRows grads;
  const double loss = model.Step(batch, {w}, &grads);

  auto weight_of = [&](uint64_t key) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return w[i];
    }
    ADD_FAILURE() << "key missing";
    return 0.0f;
  };
  double direct = 0;
  for (const auto& ex : batch) {
    double z = 0;
    for (size_t j = 0; j < ex.keys.size(); ++j) z += weight_of(ex.keys[j]) * ex.values[j];
    direct += LogLossFromLogit(z, ex.label);
  }
  EXPECT_NEAR(loss, direct, 1e-3);

  // Central finite differences on a few coordinates.
  for (size_t i = 0; i < std::min<size_t>(keys.size(), 8); ++i) {
    std::vector<float> plus = w, minus = w;
    TableRows unused;
    const float h = 1e-2f;
    plus[i] += h;
    minus[i] -= h;
    const double numeric = (model.Step(batch, {plus}, &unused) - model.Step(batch, {minus}, &unused)) / (2 * h);
    EXPECT_NEAR(grads[0][i], numeric, 2e-2 * std::max(1.0, std::fabs(numeric))) << "slot " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(OneHotAndValued, LinearModelTest, ::testing::Bool());

}  // namespace
}  // namespace embedps::worker
