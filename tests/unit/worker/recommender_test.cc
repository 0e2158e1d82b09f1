// Top-K recommendation and ranking evaluation on a planted model whose
// scores are known (tests/support/planted_mf.h).
#include "worker/eval/recommender.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "launch/local_command.h"
#include "tests/support/planted_mf.h"
#include "tests/support/test_dirs.h"
#include "worker/eval/ranking_evaluator.h"

namespace embedps::worker {
namespace {

TEST(TopKTest, SortedBestFirstWithTiesToTheSmallerItem) {
  const std::vector<uint64_t> items = {40, 10, 30, 20, 50};
  const std::vector<float> scores = {0.5f, 0.9f, 0.5f, 0.1f, 0.5f};
  const auto top = TopK(items, scores, 4);
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[0].item, 10u);
  EXPECT_EQ(top[0].score, 0.9f);
  EXPECT_EQ(top[1].item, 30u);  // 30, 40, 50 tie at 0.5
  EXPECT_EQ(top[2].item, 40u);
  EXPECT_EQ(top[3].item, 50u);
}

TEST(TopKTest, SameAnswerForAnyInputOrder) {
  std::vector<uint64_t> items;
  std::vector<float> scores;
  for (uint64_t i = 0; i < 200; ++i) {
    items.push_back(i * 7 + 1);
    scores.push_back(static_cast<float>(i % 13));  // many ties
  }
  const auto expected = TopK(items, scores, 25);
  std::mt19937 rng(3);
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int round = 0; round < 5; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<uint64_t> shuffled_items;
    std::vector<float> shuffled_scores;
    for (size_t i : order) {
      shuffled_items.push_back(items[i]);
      shuffled_scores.push_back(scores[i]);
    }
    const auto got = TopK(shuffled_items, shuffled_scores, 25);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].item, expected[i].item);
  }
}

TEST(TopKTest, NanScoresLastAndShortLists) {
  const auto top = TopK({1, 2, 3}, {std::nanf(""), 0.2f, -5.0f}, 10);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, 2u);
  EXPECT_EQ(top[1].item, 3u);
  EXPECT_EQ(top[2].item, 1u);
  EXPECT_TRUE(TopK({}, {}, 5).empty());
}

TEST(InteractionsTest, LookupsAndFileRoundTrip) {
  Interactions in;
  in.Add(2, 30);
  in.Add(1, 20);
  in.Add(2, 10);
  in.Add(2, 30);
  in.Finish();
  EXPECT_EQ(in.items(), (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ(*in.ItemsOf(2), (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ(in.ItemsOf(3), nullptr);
  EXPECT_TRUE(in.Has(1, 20));
  EXPECT_FALSE(in.Has(1, 30));
  EXPECT_EQ(in.size(), 3u);
  EXPECT_EQ(UnseenItems(in.items(), in, 1), (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ(UnseenItems(in.items(), in, 9), in.items());

  testing::ScratchDir dir;
  ASSERT_TRUE(WriteInteractionsFile(dir.File("i.tsv"), in).ok());
  auto back = ReadInteractionsFile(dir.File("i.tsv"));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->users(), in.users());
  EXPECT_EQ(back->items(), in.items());

  dir.Write("bad.tsv", "1\t2\n3 x\n");
  auto bad = ReadInteractionsFile(dir.File("bad.tsv"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("bad.tsv:2"), std::string::npos) << bad.status().message();
}

// 30 items with distinct biases; users 1..4 with factors that reorder them.
testing::PlantedMf Planted() {
  testing::PlantedMf m;
  for (uint64_t item = 1; item <= 30; ++item) {
    m.item_bias[item] = 0.05f * static_cast<float>((item * 11) % 30);
    m.item_factor[item] = (item % 2 == 0) ? 1.0f : -1.0f;
  }
  m.user_factor = {{1, 0.0f}, {2, 2.0f}, {3, -2.0f}, {4, 0.37f}};  // factors chosen so that no two scores of a user tie
  for (uint64_t user = 1; user <= 4; ++user) {
    for (uint64_t item = user; item <= 30; item += 5) m.seen.emplace_back(user, item);
  }
  // Every item is in the catalog.
  for (uint64_t item = 1; item <= 30; ++item) m.seen.emplace_back(5, item);
  return m;
}

class PlantedModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    planted_ = Planted();
    ASSERT_TRUE(testing::WritePlantedMf(dir_.path(), planted_).ok());
    auto model = launch::LoadExportedModel(dir_.path());
    ASSERT_TRUE(model.ok()) << model.status().message();
    model_ = std::move(model).value();
    ASSERT_TRUE(model_->SetRatingRange(-1e9f, 1e9f).ok());
    auto seen = ReadInteractionsFile(dir_.File(kInteractionsFile));
    ASSERT_TRUE(seen.ok());
    seen_ = std::move(seen).value();
  }

  testing::ScratchDir dir_;
  testing::PlantedMf planted_;
  std::unique_ptr<ExportedModel> model_;
  Interactions seen_;
};

TEST_F(PlantedModelTest, RecommendsTheBestUnseenItemsInOrder) {
  Recommender recommender(*model_, seen_, nullptr);
  for (uint64_t user = 1; user <= 4; ++user) {
    auto got = recommender.Recommend(user, 8);
    ASSERT_TRUE(got.ok()) << got.status().message();
    // Brute force over the planted scores.
    std::vector<std::pair<float, uint64_t>> expected;
    for (uint64_t item = 1; item <= 30; ++item) {
      if (!seen_.Has(user, item)) expected.emplace_back(-planted_.Score(user, item), item);
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(got->size(), 8u);
    for (size_t i = 0; i < 8; ++i) {
      EXPECT_FALSE(seen_.Has(user, (*got)[i].item)) << "user " << user << " already has " << (*got)[i].item;
      EXPECT_EQ((*got)[i].item, expected[i].second) << "user " << user << " rank " << i;
      EXPECT_NEAR((*got)[i].score, -expected[i].first, 1e-5);
    }
  }
}

TEST_F(PlantedModelTest, UnknownUserIsNotFound) {
  Recommender recommender(*model_, seen_, nullptr);
  auto got = recommender.Recommend(777, 5);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
}

// The held-out pairs of users 1..4 are their best unseen item or their
// worst; the sampled protocol ranks the best first (HR = NDCG = 1) and the
// worst last, and the draw is the same on every run.
TEST_F(PlantedModelTest, SampledRankingFindsBestAndWorstHeldOutItems) {
  std::string best, worst;
  for (uint64_t user = 1; user <= 4; ++user) {
    std::vector<std::pair<float, uint64_t>> unseen;
    for (uint64_t item = 1; item <= 30; ++item) {
      if (!seen_.Has(user, item)) unseen.emplace_back(planted_.Score(user, item), item);
    }
    std::sort(unseen.begin(), unseen.end());
    best += std::to_string(user) + "\t" + std::to_string(unseen.back().second) + "\t5\t1\n";
    worst += std::to_string(user) + "\t" + std::to_string(unseen.front().second) + "\t5\t1\n";
  }
  RankingOptions o;
  o.k = 3;
  o.negatives = 10;
  auto good = EvaluateRanking(*model_, seen_, dir_.Write("best.data", best), data::Format::kMovieLensTab,
                              nullptr, o);
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->heldout, 4u);
  EXPECT_DOUBLE_EQ(good->hit_ratio, 1.0);
  EXPECT_DOUBLE_EQ(good->ndcg, 1.0);
  // Full catalog: the held-out item is each user's top item, one relevant of 3 slots.
  EXPECT_EQ(good->users, 4u);
  EXPECT_DOUBLE_EQ(good->recall, 1.0);
  EXPECT_DOUBLE_EQ(good->precision, 1.0 / 3);

  auto bad = EvaluateRanking(*model_, seen_, dir_.Write("worst.data", worst), data::Format::kMovieLensTab,
                             nullptr, o);
  ASSERT_TRUE(bad.ok());
  EXPECT_DOUBLE_EQ(bad->hit_ratio, 0.0);
  EXPECT_DOUBLE_EQ(bad->recall, 0.0);
  auto again = EvaluateRanking(*model_, seen_, dir_.File("worst.data"), std::nullopt, nullptr, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->hit_ratio, bad->hit_ratio);
  EXPECT_EQ(again->ndcg, bad->ndcg);
}

// Relevance by rating: pairs rated below the threshold are not ranked.
TEST_F(PlantedModelTest, RatingThresholdSelectsRelevantPairs) {
  RankingOptions o;
  o.k = 5;
  o.min_relevant_label = 4;
  o.sampled = false;
  auto r = EvaluateRanking(*model_, seen_, dir_.Write("t.data", "1\t2\t5\t1\n1\t3\t2\t1\n2\t1\t4\t1\n"),
                           std::nullopt, nullptr, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->users, 2u);
  EXPECT_EQ(r->heldout, 0u);
  auto none = EvaluateRanking(*model_, seen_, dir_.Write("low.data", "1\t2\t1\t1\n"), std::nullopt, nullptr, o);
  EXPECT_FALSE(none.ok());
}

// Past max_full_catalog_users, the same seeded subset of users is ranked on
// every run.
TEST_F(PlantedModelTest, FullCatalogRankingCapsTheUsers) {
  RankingOptions o;
  o.sampled = false;
  o.max_full_catalog_users = 2;
  const std::string test = dir_.Write("four.data", "1\t2\t5\t1\n2\t1\t5\t1\n3\t1\t5\t1\n4\t1\t5\t1\n");
  auto first = EvaluateRanking(*model_, seen_, test, std::nullopt, nullptr, o);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->users, 2u);
  auto second = EvaluateRanking(*model_, seen_, test, std::nullopt, nullptr, o);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->recall, first->recall);
  o.max_full_catalog_users = 10;
  auto all = EvaluateRanking(*model_, seen_, test, std::nullopt, nullptr, o);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->users, 4u);
}

}  // namespace
}  // namespace embedps::worker
