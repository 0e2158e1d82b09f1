#include "worker/model/negative_sampler.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace embedps::worker {
namespace {

data::Example Interaction(uint64_t user, uint64_t item) {
  data::Example ex;
  ex.user = user;
  ex.item = item;
  ex.label = 4.0f;  // an explicit rating: implicit feedback ignores its value
  ex.AddFeature(0, 1000 + user);
  ex.AddFeature(1, 2000 + item);
  return ex;
}

TEST(NegativeSampler, AddsLabelledNegativesWithKnownItemKeys) {
  NegativeSampler sampler(4, 1);
  std::vector<data::Example> batch;
  for (uint64_t i = 0; i < 20; ++i) batch.push_back(Interaction(i % 5, i));
  sampler.Expand(&batch);
  ASSERT_EQ(batch.size(), 20u * 5);
  EXPECT_EQ(sampler.known_items(), 20u);
  std::set<uint64_t> sampled;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& ex = batch[i];
    EXPECT_EQ(ex.label, i < 20 ? 1.0f : 0.0f);
    // The item key always matches the item id, the user is the positive's.
    EXPECT_EQ(ex.keys[1], 2000 + ex.item);
    EXPECT_EQ(ex.keys[0], 1000 + ex.user);
    if (i >= 20) {
      const auto& pos = batch[(i - 20) / 4];
      EXPECT_EQ(ex.user, pos.user);
      sampled.insert(ex.item);
    }
  }
  EXPECT_GT(sampled.size(), 10u);  // draws spread over the known items
}

TEST(NegativeSampler, DrawsItemsUniformly) {
  NegativeSampler sampler(1, 2);
  std::map<uint64_t, int> counts;
  for (int round = 0; round < 400; ++round) {
    std::vector<data::Example> batch;
    for (uint64_t item = 0; item < 10; ++item) batch.push_back(Interaction(7, item));
    sampler.Expand(&batch);
    for (size_t i = 10; i < batch.size(); ++i) ++counts[batch[i].item];
  }
  ASSERT_EQ(counts.size(), 10u);
  // 4,000 draws over 10 items: about 400 each (redraws of the positive's own
  // item shift a little mass; far from any skew that matters).
  for (const auto& [item, n] : counts) EXPECT_NEAR(n, 400, 90) << "item " << item;
}

}  // namespace
}  // namespace embedps::worker
