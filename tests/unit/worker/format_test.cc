// Format names and detection from a file's name and first line.
#include "worker/data/format.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_dirs.h"

namespace embedps::data {
namespace {

std::string CriteoLine() {
  std::string line = "1";
  for (int i = 0; i < 13; ++i) line += "\t" + std::to_string(i);
  for (int j = 0; j < 26; ++j) line += "\t68fd1e64";
  return line;
}

TEST(FormatTest, NamesRoundTrip) {
  for (Format f : {Format::kCriteo, Format::kCriteoUnlabeled, Format::kMovieLensTab, Format::kMovieLensColon,
                   Format::kMovieLensCsv, Format::kLibsvm}) {
    auto parsed = ParseFormatName(FormatName(f));
    ASSERT_TRUE(parsed.ok()) << FormatName(f);
    EXPECT_EQ(*parsed, f);
  }
  auto bad = ParseFormatName("parquet");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("movielens-csv"), std::string::npos);
}

struct Case {
  const char* name;
  std::string line;
  std::optional<Format> expected;
};

TEST(FormatTest, FirstLineDecides) {
  // Names that say nothing (or lie) lose to an unambiguous line.
  const Case cases[] = {
      {"data.txt", CriteoLine(), Format::kCriteo},
      {"x.csv", CriteoLine(), Format::kCriteo},
      {"data.txt", "196\t242\t3\t881250949", Format::kMovieLensTab},
      {"data.txt", "1::1193::5::978300760", Format::kMovieLensColon},
      {"data.txt", "1,31,2.5,1260759144", Format::kMovieLensCsv},
      {"data.txt", "userId,movieId,rating,timestamp", Format::kMovieLensCsv},
      {"data.txt", "+1 3:1 7:0.5", Format::kLibsvm},
      {"data.txt", "-1 3:1", Format::kLibsvm},
  };
  for (const Case& c : cases) EXPECT_EQ(DetectFormat(c.name, c.line), c.expected) << c.line;
}

TEST(FormatTest, NameDecidesWhenTheLineDoesNot) {
  // A malformed or bare first line: the name is all there is. A bare label
  // ("1") proves nothing.
  const Case cases[] = {
      {"day_0.tsv", "garbage", Format::kCriteo},
      {"dir/day_0.tsv.gz", "", Format::kCriteo},
      {"ml-100k/u.data", "x", Format::kMovieLensTab},
      {"ml-100k/u1.base", "x", Format::kMovieLensTab},
      {"ml-100k/u1.test", "x", Format::kMovieLensTab},
      {"ml-1m/ratings.dat", "x", Format::kMovieLensColon},
      {"ratings.csv.gz", "x", Format::kMovieLensCsv},
      {"a9a.svm", "1", Format::kLibsvm},
      {"a9a.libsvm", "1", Format::kLibsvm},
      {"notes.txt", "hello", std::nullopt},
      {"notes.txt", "1", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(DetectFormat(c.name, c.line), c.expected) << c.name;
}

TEST(FormatTest, FlagValue) {
  EXPECT_EQ(FormatFromFlag("").value(), std::nullopt);
  EXPECT_EQ(FormatFromFlag("libsvm").value(), Format::kLibsvm);
  auto bad = FormatFromFlag("parquet");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("--format: unknown format 'parquet'", 0), 0u)
      << bad.status().message();
}

TEST(FormatTest, DetectFileFormatReadsPlainAndGzip) {
  testing::ScratchDir dir;
  EXPECT_EQ(DetectFileFormat(dir.Write("a.txt", "\n\r\n196\t242\t3\t881250949\n")).value(),
            Format::kMovieLensTab)
      << "blank lines before the first line are skipped";
  EXPECT_EQ(DetectFileFormat(dir.WriteGzip("b.gz", CriteoLine() + "\n")).value(), Format::kCriteo);
  EXPECT_EQ(DetectFileFormat(dir.WriteGzip("c.gz", "1 2:1\n")).value(), Format::kLibsvm);

  auto unknown = DetectFileFormat(dir.Write("d.txt", "what is this\n"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("--format"), std::string::npos);
  EXPECT_NE(unknown.status().message().find(dir.File("d.txt")), std::string::npos);
  EXPECT_EQ(DetectFileFormat(dir.File("missing.tsv")).status().code(), StatusCode::kNotFound);

  EXPECT_EQ(ResolveFormat(Format::kLibsvm, dir.File("d.txt")).value(), Format::kLibsvm);
}

// One 39-field line may be a labeled one trimmed or an unlabeled one; the
// first lines of a file tell them apart.
TEST(FormatTest, UnlabeledCriteoIsToldFromTheFirstLines) {
  const std::string unlabeled = CriteoLine().substr(2);  // I1..I13 = 0..12, C1..C26 = 68fd1e64
  EXPECT_EQ(DetectFormat("test.txt", unlabeled), Format::kCriteoUnlabeled) << "C1 is no integer I13";
  // I1 = 0 reads as a label and an all-digit C1 as I13: one such line could
  // be a labeled one with its empty C26 trimmed, and that is the common case.
  std::string ambiguous = unlabeled;
  ambiguous.replace(ambiguous.find("68fd1e64"), 8, "12345678");
  EXPECT_EQ(DetectFormat("test.txt", ambiguous), Format::kCriteo);
  EXPECT_EQ(DetectFormat("test.txt", {ambiguous, unlabeled.substr(1)}), Format::kCriteoUnlabeled)
      << "a second line with an empty I1 has no label";
  EXPECT_EQ(DetectFormat("train.txt", {ambiguous, CriteoLine()}), Format::kCriteo) << "40 fields: labeled";
  testing::ScratchDir dir;
  std::string kaggle_test;
  for (int i = 0; i < 50; ++i) kaggle_test += std::to_string(i % 7 == 0 ? 5 : i % 2) + ambiguous.substr(1) + "\n";
  EXPECT_EQ(DetectFileFormat(dir.Write("test.txt", kaggle_test)).value(), Format::kCriteoUnlabeled)
      << "an I1 of 5 is no label";
  EXPECT_FALSE(HasLabels(Format::kCriteoUnlabeled));
  EXPECT_TRUE(HasLabels(Format::kCriteo));
  EXPECT_TRUE(SameFeatures(Format::kCriteo, Format::kCriteoUnlabeled));
  EXPECT_FALSE(SameFeatures(Format::kCriteo, Format::kLibsvm));
}

TEST(FormatTest, HeaderOnlyForCsv) {
  EXPECT_TRUE(IsHeaderLine(Format::kMovieLensCsv, "userId,movieId,rating,timestamp"));
  EXPECT_FALSE(IsHeaderLine(Format::kMovieLensCsv, "1,2,3,4"));
  // Column names without a number head a file of any format; data lines
  // always have one (the label).
  EXPECT_TRUE(IsHeaderLine(Format::kMovieLensTab, "user_id\titem_id\trating\ttimestamp\r"));
  EXPECT_TRUE(IsHeaderLine(Format::kCriteo, "label\tI1\tI2\tC1"));
  EXPECT_TRUE(IsHeaderLine(Format::kLibsvm, "# label index:value"));
  EXPECT_FALSE(IsHeaderLine(Format::kCriteo, CriteoLine()));
  EXPECT_FALSE(IsHeaderLine(Format::kLibsvm, "+1 3:1"));
  EXPECT_FALSE(IsHeaderLine(Format::kMovieLensTab, ""));
}

}  // namespace
}  // namespace embedps::data
