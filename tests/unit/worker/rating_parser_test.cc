// MovieLens rating lines: the three layouts, the keys and every rejection.
#include "worker/data/rating_parser.h"

#include <string>

#include <gtest/gtest.h>

namespace embedps::data {
namespace {

std::string ParseError(Status (*parse)(std::string_view, Example*), const std::string& line) {
  Example ex;
  Status st = parse(line, &ex);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "accepted: " << line;
  return st.message();
}

void ExpectRating(const Example& ex, uint64_t user, uint64_t item, float rating, int64_t ts) {
  EXPECT_EQ(ex.user, user);
  EXPECT_EQ(ex.item, item);
  EXPECT_EQ(ex.label, rating);
  EXPECT_EQ(ex.timestamp, ts);
  ASSERT_EQ(ex.keys.size(), 2u);
  EXPECT_EQ(ex.keys[0], UserKey(user));
  EXPECT_EQ(ex.keys[1], ItemKey(item));
  EXPECT_EQ(ex.fields, (std::vector<uint16_t>{kUserField, kItemField}));
  EXPECT_EQ(ex.values, (std::vector<float>{1.0f, 1.0f}));
  EXPECT_TRUE(ex.dense.empty());
}

TEST(RatingParserTest, ParsesEachLayout) {
  Example ex;
  ASSERT_TRUE(ParseMovieLensTabLine("196\t242\t3\t881250949", &ex).ok());
  ExpectRating(ex, 196, 242, 3.0f, 881250949);
  ASSERT_TRUE(ParseMovieLensDatLine("1::1193::5::978300760\r", &ex).ok());
  ExpectRating(ex, 1, 1193, 5.0f, 978300760);
  ASSERT_TRUE(ParseMovieLensCsvLine("7,31,2.5,1260759144", &ex).ok());
  ExpectRating(ex, 7, 31, 2.5f, 1260759144);
  // The timestamp may be left out.
  ASSERT_TRUE(ParseMovieLensCsvLine("7,31,4.5", &ex).ok());
  ExpectRating(ex, 7, 31, 4.5f, 0);
}

TEST(RatingParserTest, OverwritesAnExampleOfAnotherShape) {
  Example ex;
  for (int i = 0; i < 40; ++i) ex.AddFeature(static_cast<uint16_t>(i), i, 3.0f);
  ex.dense.assign(13, 1.0f);
  ASSERT_TRUE(ParseMovieLensTabLine("1\t2\t3\t4", &ex).ok());
  ExpectRating(ex, 1, 2, 3.0f, 4);
}

TEST(RatingParserTest, UserAndItemNamespacesDiffer) {
  EXPECT_NE(UserKey(5), ItemKey(5));
  EXPECT_NE(UserKey(5), UserKey(6));
}

TEST(RatingParserTest, KeysAreStable) {
  // Exported models store these keys: they must never change.
  EXPECT_EQ(UserKey(1), 5215115267945950311ULL);
  EXPECT_EQ(ItemKey(1), 10974721489540185164ULL);
}

TEST(RatingParserTest, RejectsMalformedLines) {
  EXPECT_EQ(ParseError(&ParseMovieLensTabLine, "1\t2"),
            "expected 4 fields (user, item, rating, timestamp), got 2");
  EXPECT_EQ(ParseError(&ParseMovieLensTabLine, "1\t2\t3\t4\t5"),
            "expected 4 fields (user, item, rating, timestamp), got 5");
  EXPECT_EQ(ParseError(&ParseMovieLensTabLine, ""),
            "expected 4 fields (user, item, rating, timestamp), got 1");
  // The wrong separator for the layout is a field-count error.
  EXPECT_NE(ParseError(&ParseMovieLensDatLine, "1\t2\t3\t4").find("got 1"), std::string::npos);
  EXPECT_EQ(ParseError(&ParseMovieLensTabLine, "u1\t2\t3\t4"), "user id is not an integer: 'u1'");
  EXPECT_EQ(ParseError(&ParseMovieLensTabLine, "-1\t2\t3\t4"), "user id is not an integer: '-1'");
  EXPECT_EQ(ParseError(&ParseMovieLensTabLine, "1\t\t3\t4"), "item id is not an integer: ''");
  EXPECT_EQ(ParseError(&ParseMovieLensCsvLine, "1,2,three,4"), "rating is not a number: 'three'");
  EXPECT_EQ(ParseError(&ParseMovieLensCsvLine, "1,2,nan,4"), "rating is not a number: 'nan'");
  EXPECT_EQ(ParseError(&ParseMovieLensCsvLine, "1,2,4.5x,4"), "rating is not a number: '4.5x'");
  EXPECT_EQ(ParseError(&ParseMovieLensDatLine, "1::2::3::12:00"),
            "timestamp is not an integer: '12:00'");
  EXPECT_NE(ParseError(&ParseMovieLensTabLine, "99999999999999999999999\t2\t3\t4").find("user id"),
            std::string::npos);
}

TEST(RatingParserTest, CsvHeader) {
  EXPECT_TRUE(IsRatingCsvHeader("userId,movieId,rating,timestamp"));
  EXPECT_FALSE(IsRatingCsvHeader("1,31,2.5,1260759144"));
  EXPECT_FALSE(IsRatingCsvHeader("userId"));
  EXPECT_FALSE(IsRatingCsvHeader(""));
}

}  // namespace
}  // namespace embedps::data
