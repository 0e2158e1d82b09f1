// libsvm lines: labels in every convention, features, comments, rejections.
#include "worker/data/libsvm_parser.h"

#include <string>

#include <gtest/gtest.h>

namespace embedps::data {
namespace {

std::string ParseError(const std::string& line) {
  Example ex;
  Status st = ParseLibsvmLine(line, &ex);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "accepted: " << line;
  return st.message();
}

TEST(LibsvmParserTest, ParsesFeaturesWithValues) {
  Example ex;
  ASSERT_TRUE(ParseLibsvmLine("1 3:0.5 10:1\t7:-2e-1 ", &ex).ok());
  EXPECT_EQ(ex.label, 1.0f);
  EXPECT_EQ(ex.keys, (std::vector<uint64_t>{LibsvmKey(3), LibsvmKey(10), LibsvmKey(7)}));
  EXPECT_EQ(ex.values, (std::vector<float>{0.5f, 1.0f, -0.2f}));
  EXPECT_EQ(ex.fields, (std::vector<uint16_t>{0, 0, 0}));
  EXPECT_TRUE(ex.dense.empty());
  EXPECT_NE(LibsvmKey(3), LibsvmKey(10));
  // Exported models store these keys: they must never change.
  EXPECT_EQ(LibsvmKey(3), 3187182775608322590ULL);
}

TEST(LibsvmParserTest, LabelConventions) {
  Example ex;
  for (auto [text, label] : std::initializer_list<std::pair<const char*, float>>{
           {"0", 0}, {"1", 1}, {"+1", 1}, {"-1", 0}, {"3.25", 3.25f}, {"-0.5", -0.5f}}) {
    ASSERT_TRUE(ParseLibsvmLine(std::string(text) + " 1:1", &ex).ok()) << text;
    EXPECT_EQ(ex.label, label) << text;
  }
}

TEST(LibsvmParserTest, LabelOnlyCommentsQidAndCr) {
  Example ex;
  ex.AddFeature(4, 4, 4);
  ex.user = 9;
  ASSERT_TRUE(ParseLibsvmLine("0", &ex).ok());
  EXPECT_TRUE(ex.keys.empty()) << "an example with no features is valid";
  EXPECT_EQ(ex.user, 0u);
  ASSERT_TRUE(ParseLibsvmLine("1 qid:3 5:2 # a comment 6:1\r", &ex).ok());
  EXPECT_EQ(ex.keys, (std::vector<uint64_t>{LibsvmKey(5)}));
  EXPECT_EQ(ex.values, (std::vector<float>{2.0f}));
}

TEST(LibsvmParserTest, RejectsMalformedLines) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty line (no label)"},
      {"   ", "empty line (no label)"},
      {"yes 1:1", "label is not a number: 'yes'"},
      {"+ 1:1", "label is not a number: '+'"},
      {"+-1 1:1", "label is not a number: '+-1'"},
      {"inf 1:1", "label is not a number: 'inf'"},
      {"1 3:1 7", "token 2 is not index:value: '7'"},
      {"1 x:1", "index is not a non-negative integer: 'x:1'"},
      {"1 -3:1", "index is not a non-negative integer: '-3:1'"},
      {"1 3:", "value is not a finite number: '3:'"},
      {"1 3:nan", "value is not a finite number: '3:nan'"},
      {"1 3:1:2", "value is not a finite number: '3:1:2'"},
  };
  for (const auto& [line, message] : cases) EXPECT_EQ(ParseError(line), message) << line;
}

}  // namespace
}  // namespace embedps::data
