#include "launch/holdout_split.h"

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps::launch {
namespace {

TEST(HoldoutSplitTest, HoldsOutEachUsersLatestInteraction) {
  testing::ScratchDir dir;
  // User 1's latest is at t=30 (line 2); user 2's two t=50 lines tie: the
  // later one in file order is held out; user 3 has one line. A malformed
  // line stays in training.
  const std::string data = dir.Write("u.data",
                                     "1\t10\t4\t20\n"
                                     "1\t11\t3\t30\n"
                                     "2\t10\t5\t50\n"
                                     "1\t12\t5\t25\n"
                                     "garbage\n"
                                     "2\t13\t1\t50\n"
                                     "3\t14\t2\t5\n"
                                     "2\t15\t2\t40\n");
  auto split = SplitLatestPerUser(data, data::Format::kMovieLensTab, dir.path());
  ASSERT_TRUE(split.ok()) << split.status().message();
  EXPECT_EQ(split->test_lines, 3u);
  EXPECT_EQ(split->train_lines, 5u);
  EXPECT_EQ(testing::ReadFile(split->test), "1\t11\t3\t30\n2\t13\t1\t50\n3\t14\t2\t5\n");
  EXPECT_EQ(testing::ReadFile(split->train), "1\t10\t4\t20\n2\t10\t5\t50\n1\t12\t5\t25\ngarbage\n2\t15\t2\t40\n");
}

TEST(HoldoutSplitTest, KeepsTheCsvHeaderAndReadsGzip) {
  testing::ScratchDir dir;
  const std::string data = dir.WriteGzip("ratings.csv.gz",
                                         "userId,movieId,rating,timestamp\n1,5,4.0,100\n1,6,3.5,90\n");
  auto split = SplitLatestPerUser(data, data::Format::kMovieLensCsv, dir.path());
  ASSERT_TRUE(split.ok()) << split.status().message();
  EXPECT_EQ(testing::ReadFile(split->test), "userId,movieId,rating,timestamp\n1,5,4.0,100\n");
  EXPECT_EQ(testing::ReadFile(split->train), "userId,movieId,rating,timestamp\n1,6,3.5,90\n");
}

TEST(HoldoutSplitTest, RefusesClickData) {
  testing::ScratchDir dir;
  auto split = SplitLatestPerUser(dir.Write("x.svm", "1 3:1\n"), data::Format::kLibsvm, dir.path());
  ASSERT_FALSE(split.ok());
  EXPECT_NE(split.status().message().find("rating data"), std::string::npos);
}

}  // namespace
}  // namespace embedps::launch
