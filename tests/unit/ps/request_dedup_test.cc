#include "ps/request_dedup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace embedps::ps {
namespace {

using V = RequestDedup::Verdict;

TEST(RequestDedupTest, AppliesOnceAndAnswersCopiesFromMemory) {
  RequestDedup d(128);
  EXPECT_EQ(d.Claim(1, 5), V::kNew);
  EXPECT_EQ(d.Claim(1, 5), V::kInProgress);
  d.Finish(1, 5, /*applied=*/true);
  EXPECT_EQ(d.Claim(1, 5), V::kApplied);
  // Other senders and other ids are independent; ids may arrive out of order.
  EXPECT_EQ(d.Claim(2, 5), V::kNew);
  EXPECT_EQ(d.Claim(1, 9), V::kNew);
  EXPECT_EQ(d.Claim(1, 7), V::kNew);
  d.Finish(1, 7, true);
  EXPECT_EQ(d.Claim(1, 7), V::kApplied);
}

TEST(RequestDedupTest, RefusedRequestsMayBeTriedAgain) {
  RequestDedup d(128);
  EXPECT_EQ(d.Claim(1, 3), V::kNew);
  d.Finish(1, 3, /*applied=*/false);
  EXPECT_EQ(d.Claim(1, 3), V::kNew);
}

TEST(RequestDedupTest, ForgetsBeyondTheWindowAndRefusesWhatItForgot) {
  RequestDedup d(128);
  EXPECT_EQ(d.Claim(1, 10), V::kNew);
  d.Finish(1, 10, true);
  EXPECT_EQ(d.Claim(1, 137), V::kNew);  // 10 + 128 > 137: still remembered
  EXPECT_EQ(d.Claim(1, 10), V::kApplied);
  EXPECT_EQ(d.Claim(1, 138), V::kNew);  // now 10 fell out of the window
  EXPECT_EQ(d.Claim(1, 10), V::kTooOld);
  // The slot 10 shared (id 138) is not mistaken for it.
  EXPECT_EQ(d.Claim(1, 138), V::kInProgress);
  // A jump far ahead clears everything it passes.
  EXPECT_EQ(d.Claim(1, 1000000), V::kNew);
  EXPECT_EQ(d.Claim(1, 999999), V::kNew);
}

TEST(RequestDedupTest, BoundsTheNumberOfSenders) {
  RequestDedup d(64, /*max_senders=*/2);
  EXPECT_EQ(d.Claim(1, 1), V::kNew);
  EXPECT_EQ(d.Claim(2, 1), V::kNew);
  EXPECT_EQ(d.Claim(3, 1), V::kTooManySenders);
}

TEST(RequestDedupTest, ConcurrentCopiesAreClaimedExactlyOnce) {
  RequestDedup d;
  std::atomic<int> claimed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (uint64_t id = 1; id <= 20000; ++id) {
        if (d.Claim(7, id) == V::kNew) {
          claimed.fetch_add(1);
          d.Finish(7, id, true);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.load(), 20000);
}

}  // namespace
}  // namespace embedps::ps
