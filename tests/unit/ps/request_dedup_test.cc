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

TEST(RequestDedupTest, ImportedIdsAreRecognisedAsApplied) {
  // The backup's record of a dead server's pushes seeds its replacement.
  RequestDedup backup(128);
  for (uint64_t id : {3, 4, 200}) {
    ASSERT_EQ(backup.Claim(1, id), V::kNew);
    backup.Finish(1, id, true);
  }
  ASSERT_EQ(backup.Claim(2, 10), V::kNew);
  backup.Finish(2, 10, true);
  ASSERT_EQ(backup.Claim(2, 11), V::kNew);
  backup.Finish(2, 11, /*applied=*/false);

  RequestDedup replacement(128);
  // The replacement already saw a newer request from sender 2.
  ASSERT_EQ(replacement.Claim(2, 100), V::kNew);
  replacement.Finish(2, 100, true);
  ASSERT_TRUE(replacement.ImportApplied(backup.ExportApplied()).ok());
  EXPECT_EQ(replacement.Claim(1, 200), V::kApplied);
  EXPECT_EQ(replacement.Claim(1, 199), V::kNew);   // never applied
  EXPECT_EQ(replacement.Claim(1, 4), V::kTooOld);   // 200 - 128 and older: outside the window
  EXPECT_EQ(replacement.Claim(2, 10), V::kApplied);  // shifted to the newer highest id, still known
  EXPECT_EQ(replacement.Claim(2, 100), V::kApplied);
  EXPECT_EQ(replacement.Claim(2, 11), V::kNew);     // refused on the backup: may be applied now

  RequestDedup other_window(256);
  EXPECT_FALSE(other_window.ImportApplied(backup.ExportApplied()).ok());
}

// The guard finishes a claim on every path out of a handler: left alone it
// releases the id (a retry is judged afresh, not dropped as in progress);
// finished as applied, a retry is a duplicate.
TEST(RequestDedupTest, AScopedClaimIsReleasedUnlessFinished) {
  RequestDedup dedup;
  ASSERT_EQ(dedup.Claim(7, 1), RequestDedup::Verdict::kNew);
  { RequestDedup::ScopedClaim guard(&dedup, 7, 1); }  // an early return
  EXPECT_EQ(dedup.Claim(7, 1), RequestDedup::Verdict::kNew);
  {
    RequestDedup::ScopedClaim guard(&dedup, 7, 1);
    EXPECT_EQ(dedup.Claim(7, 1), RequestDedup::Verdict::kInProgress);
    guard.Finish(true);
    RequestDedup::ScopedClaim moved(std::move(guard));  // finishes nothing twice
  }
  EXPECT_EQ(dedup.Claim(7, 1), RequestDedup::Verdict::kApplied);
}

}  // namespace
}  // namespace embedps::ps
