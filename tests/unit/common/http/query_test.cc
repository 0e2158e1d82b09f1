#include "common/http/query.h"

#include <gtest/gtest.h>

namespace embedps::http {
namespace {

TEST(QueryParamTest, FindsTheFirstMatchingPair) {
  EXPECT_EQ(QueryParam("user=12&k=10", "user"), "12");
  EXPECT_EQ(QueryParam("user=12&k=10", "k"), "10");
  EXPECT_EQ(QueryParam("k=1&k=2", "k"), "1");
  EXPECT_EQ(QueryParam("user=12&k=10", "x"), std::nullopt);
  EXPECT_EQ(QueryParam("", "user"), std::nullopt);
  // A longer name sharing the prefix is another parameter.
  EXPECT_EQ(QueryParam("username=3&user=4", "user"), "4");
}

TEST(QueryParamTest, EmptyAndValuelessPairs) {
  EXPECT_EQ(QueryParam("user=&k=1", "user"), "");
  EXPECT_EQ(QueryParam("flag&k=1", "flag"), "");
  EXPECT_EQ(QueryParam("&&user=5&", "user"), "5");
}

TEST(QueryParamTest, PercentAndPlusDecoding) {
  EXPECT_EQ(QueryParam("q=a%20b+c", "q"), "a b c");
  EXPECT_EQ(QueryParam("us%65r=7", "user"), "7");
  // A broken escape is kept as written.
  EXPECT_EQ(QueryParam("q=50%", "q"), "50%");
  EXPECT_EQ(QueryParam("q=%zz", "q"), "%zz");
}

}  // namespace
}  // namespace embedps::http
