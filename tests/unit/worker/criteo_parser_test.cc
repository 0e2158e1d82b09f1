#include "worker/data/criteo_parser.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace embedps::data {
namespace {

// The 40 fields of a typical line.
std::vector<std::string> GoodFields() {
  std::vector<std::string> f = {"1"};
  for (int i = 0; i < kCriteoIntFields; ++i) f.push_back(std::to_string(i * 7));
  for (int j = 0; j < kCriteoCatFields; ++j) {
    f.push_back("68fd1e" + std::string(1, static_cast<char>('a' + j % 6)) + "4");
  }
  return f;
}

std::string Join(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) line.push_back('\t');
    line += fields[i];
  }
  return line;
}

std::string ParseError(const std::string& line) {
  Example ex;
  Status st = ParseCriteoLine(line, &ex);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "accepted: " << line;
  return st.message();
}

TEST(CriteoParserTest, ParsesGoodLine) {
  const auto fields = GoodFields();
  Example ex;
  ASSERT_TRUE(ParseCriteoLine(Join(fields), &ex).ok());
  EXPECT_EQ(ex.label, 1.0f);
  for (int i = 0; i < kCriteoIntFields; ++i) {
    EXPECT_EQ(ex.keys[i], IntegerFeatureKey(i, BucketizeInteger(i * 7))) << "I" << i + 1;
    EXPECT_EQ(ex.keys[i], FeatureKey(i, std::to_string(BucketizeInteger(i * 7))));
  }
  for (int j = 0; j < kCriteoCatFields; ++j) {
    EXPECT_EQ(ex.keys[kCriteoIntFields + j], FeatureKey(kCriteoIntFields + j, fields[14 + j]));
  }
  EXPECT_EQ(ex.keys[kCriteoFeatureFields], BiasKey());
  ASSERT_EQ(ex.keys.size(), static_cast<size_t>(kCriteoKeysPerExample));
  ASSERT_EQ(ex.fields.size(), ex.keys.size());
  ASSERT_EQ(ex.values.size(), ex.keys.size());
  for (int f = 0; f < kCriteoKeysPerExample; ++f) {
    EXPECT_EQ(ex.fields[f], f);
    EXPECT_EQ(ex.values[f], 1.0f);
  }
  EXPECT_EQ(ex.fields.back(), kCriteoBiasField);
  ASSERT_EQ(ex.dense.size(), static_cast<size_t>(kCriteoIntFields));
  for (int i = 0; i < kCriteoIntFields; ++i) {
    EXPECT_FLOAT_EQ(ex.dense[i], std::log1p(static_cast<double>(i * 7))) << "I" << i + 1;
  }
  EXPECT_EQ(ex.user, 0u);
  EXPECT_EQ(ex.item, 0u);

  auto zero = fields;
  zero[0] = "0";
  ASSERT_TRUE(ParseCriteoLine(Join(zero), &ex).ok());
  EXPECT_EQ(ex.label, 0.0f);
}

TEST(CriteoParserTest, AcceptsTrailingCarriageReturn) {
  Example a, b;
  ASSERT_TRUE(ParseCriteoLine(Join(GoodFields()), &a).ok());
  ASSERT_TRUE(ParseCriteoLine(Join(GoodFields()) + "\r", &b).ok());
  EXPECT_EQ(a.keys, b.keys);
}

TEST(CriteoParserTest, EmptyFieldsAreMissingCategories) {
  std::vector<std::string> fields(40);
  fields[0] = "0";
  Example ex;
  ASSERT_TRUE(ParseCriteoLine(Join(fields), &ex).ok());
  for (int f = 0; f < kCriteoFeatureFields; ++f) EXPECT_EQ(ex.keys[f], FeatureKey(f, ""));
  // "Missing" is its own category: different from any value of the field.
  EXPECT_NE(FeatureKey(0, ""), IntegerFeatureKey(0, 0));
  EXPECT_NE(FeatureKey(20, ""), FeatureKey(20, "0"));
  // A categorical line with trailing empty fields still has 40 fields.
  auto trailing = GoodFields();
  trailing[39] = "";
  trailing[38] = "";
  ASSERT_TRUE(ParseCriteoLine(Join(trailing), &ex).ok());
  EXPECT_EQ(ex.keys[38], FeatureKey(38, ""));
}

TEST(CriteoParserTest, NegativeIntegersKeepTheirBucket) {
  auto fields = GoodFields();
  fields[2] = "-3";
  Example ex;
  ASSERT_TRUE(ParseCriteoLine(Join(fields), &ex).ok());
  EXPECT_EQ(ex.keys[1], IntegerFeatureKey(1, -3));
  EXPECT_NE(ex.keys[1], IntegerFeatureKey(1, 3));
}

TEST(CriteoParserTest, DenseValuesAreLogOnePlusClampedCount) {
  auto fields = GoodFields();
  fields[1] = "";        // missing
  fields[2] = "-3";      // negative counts clamp to 0
  fields[3] = "1";
  fields[4] = "100000";  // beyond the lookup table
  Example ex;
  ASSERT_TRUE(ParseCriteoLine(Join(fields), &ex).ok());
  EXPECT_EQ(ex.dense[0], 0.0f);
  EXPECT_EQ(ex.dense[1], 0.0f);
  EXPECT_FLOAT_EQ(ex.dense[2], std::log(2.0));
  EXPECT_FLOAT_EQ(ex.dense[3], std::log(100001.0));
  EXPECT_EQ(CriteoDenseValue(4095), static_cast<float>(std::log1p(4095.0)));
  EXPECT_EQ(CriteoDenseValue(4096), static_cast<float>(std::log1p(4096.0)));
}

TEST(CriteoParserTest, OverwritesAnExampleOfAnotherShape) {
  // Batches are reused across formats and side features: nothing may linger.
  Example ex;
  ex.AddFeature(7, 123, 0.5f);
  for (int i = 0; i < 50; ++i) ex.AddFeature(3, i, 2.0f);
  ex.user = 5;
  ex.item = 6;
  ex.timestamp = 7;
  ASSERT_TRUE(ParseCriteoLine(Join(GoodFields()), &ex).ok());
  Example fresh;
  ASSERT_TRUE(ParseCriteoLine(Join(GoodFields()), &fresh).ok());
  EXPECT_EQ(ex.keys, fresh.keys);
  EXPECT_EQ(ex.fields, fresh.fields);
  EXPECT_EQ(ex.values, fresh.values);
  EXPECT_EQ(ex.dense, fresh.dense);
  EXPECT_EQ(ex.user, 0u);
  EXPECT_EQ(ex.item, 0u);
  EXPECT_EQ(ex.timestamp, 0);
}

TEST(CriteoParserTest, RejectsWrongFieldCount) {
  auto fields = GoodFields();
  fields.push_back("extra");
  const std::string counts = "expected 40 fields (or 14 and more with empty ones trimmed), got ";
  EXPECT_EQ(ParseError(Join(fields)), counts + "41");
  EXPECT_EQ(ParseError(""), counts + "1");
  EXPECT_EQ(ParseError("1\t2\t3"), counts + "3");
  fields = GoodFields();
  fields.resize(13);  // an integer field short
  EXPECT_EQ(ParseError(Join(fields)), counts + "13");
}

TEST(CriteoParserTest, TrimmedTrailingFieldsAreMissingValues) {
  // A line whose last fields were empty and trimmed away (as by tools that
  // trim lines) parses as the whole line with those fields empty.
  for (size_t keep : {size_t{39}, size_t{30}, size_t{14}}) {
    auto whole = GoodFields();
    for (size_t f = keep; f < whole.size(); ++f) whole[f] = "";
    auto trimmed = whole;
    trimmed.resize(keep);
    Example expected, ex;
    ASSERT_TRUE(ParseCriteoLine(Join(whole), &expected).ok());
    ASSERT_TRUE(ParseCriteoLine(Join(trimmed), &ex).ok()) << keep << " fields: " << ParseError(Join(trimmed));
    EXPECT_EQ(ex.keys, expected.keys) << keep;
    EXPECT_EQ(ex.dense, expected.dense) << keep;
    EXPECT_EQ(ex.label, expected.label) << keep;
  }
}

TEST(CriteoParserTest, UnlabeledLineHasTheLabeledLinesKeys) {
  // Kaggle's test.txt: the 39 feature fields without the label, also with
  // trailing empty fields trimmed.
  for (size_t keep : {size_t{39}, size_t{20}, size_t{13}}) {
    auto labeled = GoodFields();
    for (size_t f = keep + 1; f < labeled.size(); ++f) labeled[f] = "";
    std::vector<std::string> unlabeled(labeled.begin() + 1, labeled.begin() + 1 + keep);
    Example expected, ex;
    ASSERT_TRUE(ParseCriteoLine(Join(labeled), &expected).ok());
    ASSERT_TRUE(ParseUnlabeledCriteoLine(Join(unlabeled), &ex).ok()) << keep;
    EXPECT_EQ(ex.keys, expected.keys) << keep;
    EXPECT_EQ(ex.fields, expected.fields) << keep;
    EXPECT_EQ(ex.dense, expected.dense) << keep;
    EXPECT_EQ(ex.label, 0.0f);
  }
  Example ex;
  const Status too_long = ParseUnlabeledCriteoLine(Join(GoodFields()), &ex);
  EXPECT_EQ(too_long.message(), "expected 39 fields (or 13 and more with empty ones trimmed), got 40");
  auto short_fields = GoodFields();
  short_fields.resize(13);  // 12 features without the label
  EXPECT_FALSE(ParseUnlabeledCriteoLine(Join(std::vector<std::string>(short_fields.begin() + 1, short_fields.end())),
                                        &ex).ok());
}

TEST(CriteoParserTest, RejectsBadLabel) {
  for (const char* label : {"2", "", "0.5", "-1", "yes", "01", " 1"}) {
    auto fields = GoodFields();
    fields[0] = label;
    EXPECT_NE(ParseError(Join(fields)).find("label must be 0 or 1"), std::string::npos) << label;
  }
}

TEST(CriteoParserTest, RejectsBadInteger) {
  auto fields = GoodFields();
  fields[3] = "x1";
  EXPECT_EQ(ParseError(Join(fields)), "field I3 is not an integer: 'x1'");
  for (const char* bad : {"12abc", "1.5", " 7", "+4", "-", "0x10"}) {
    fields = GoodFields();
    fields[13] = bad;
    EXPECT_NE(ParseError(Join(fields)).find("field I13 is not an integer"), std::string::npos)
        << bad;
  }
  fields = GoodFields();
  fields[1] = "99999999999999999999999";
  EXPECT_NE(ParseError(Join(fields)).find("field I1 is out of range"), std::string::npos);
  // A long bad token is cut short in the message.
  fields[1] = std::string(500, 'z');
  EXPECT_LT(ParseError(Join(fields)).size(), 80u);
}

TEST(CriteoParserTest, CategoricalFieldsAcceptAnyText) {
  auto fields = GoodFields();
  fields[14] = "not hex at all!";
  fields[39] = "x";
  Example ex;
  ASSERT_TRUE(ParseCriteoLine(Join(fields), &ex).ok());
  EXPECT_EQ(ex.keys[13], FeatureKey(13, "not hex at all!"));
}

TEST(CriteoParserTest, BucketizeInteger) {
  // v <= 2 keeps its own value, negatives included.
  EXPECT_EQ(BucketizeInteger(-5), -5);
  EXPECT_EQ(BucketizeInteger(-1), -1);
  EXPECT_EQ(BucketizeInteger(0), 0);
  EXPECT_EQ(BucketizeInteger(1), 1);
  EXPECT_EQ(BucketizeInteger(2), 2);
  // Above 2: floor(ln(v)^2).
  EXPECT_EQ(BucketizeInteger(3), 1);     // ln 3 = 1.0986, squared 1.207
  EXPECT_EQ(BucketizeInteger(5), 2);     // 2.590
  EXPECT_EQ(BucketizeInteger(6), 3);     // 3.210
  EXPECT_EQ(BucketizeInteger(10), 5);    // 5.302
  EXPECT_EQ(BucketizeInteger(11), 5);    // 5.750
  EXPECT_EQ(BucketizeInteger(100), 21);  // 21.208
  EXPECT_EQ(BucketizeInteger(1000), 47);  // 47.717
  EXPECT_EQ(BucketizeInteger(1000000000000000000), 1717);  // 1717.8
  // Monotone non-decreasing above 2.
  for (int64_t v = 3; v < 100000; ++v) {
    ASSERT_LE(BucketizeInteger(v), BucketizeInteger(v + 1)) << v;
  }
}

TEST(CriteoParserTest, SameBucketSameKey) {
  auto a = GoodFields(), b = GoodFields();
  a[1] = "10";
  b[1] = "11";
  Example ea, eb;
  ASSERT_TRUE(ParseCriteoLine(Join(a), &ea).ok());
  ASSERT_TRUE(ParseCriteoLine(Join(b), &eb).ok());
  EXPECT_EQ(ea.keys[0], eb.keys[0]);
  b[1] = "100";
  ASSERT_TRUE(ParseCriteoLine(Join(b), &eb).ok());
  EXPECT_NE(ea.keys[0], eb.keys[0]);
}

TEST(CriteoParserTest, FieldsAreNamespaces) {
  EXPECT_NE(FeatureKey(13, "68fd1e64"), FeatureKey(14, "68fd1e64"));
  EXPECT_NE(IntegerFeatureKey(0, 5), IntegerFeatureKey(1, 5));
  EXPECT_NE(FeatureKey(0, ""), FeatureKey(1, ""));
  // The same token in every field of one line gives 39 distinct keys + bias.
  std::vector<std::string> fields(40, "7");
  fields[0] = "1";
  Example ex;
  ASSERT_TRUE(ParseCriteoLine(Join(fields), &ex).ok());
  std::set<uint64_t> distinct(ex.keys.begin(), ex.keys.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kCriteoKeysPerExample));
}

TEST(CriteoParserTest, KeysAreStable) {
  // Checkpoints and exported models store these keys: they must never change.
  EXPECT_EQ(FeatureKey(13, "68fd1e64"), FeatureKey(13, std::string("68fd1e64")));
  EXPECT_EQ(FeatureKey(13, "68fd1e64"), 5753039704717488551ULL);
  EXPECT_EQ(IntegerFeatureKey(0, 5), 1201521802711016487ULL);
  EXPECT_EQ(BiasKey(), 4333552048344114404ULL);
}

}  // namespace
}  // namespace embedps::data
