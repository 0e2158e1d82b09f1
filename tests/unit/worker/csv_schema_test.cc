// Delimited files with a header (worker/data/csv_schema.h): roles by column
// name, keys independent of column order, quoting, detection by content.
#include "worker/data/csv_schema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/support/test_dirs.h"
#include "worker/data/example_reader.h"
#include "worker/data/format.h"

namespace embedps::data {
namespace {

constexpr char kAvazuHeader[] = "id,click,hour,C1,banner_pos,site_id,device_type";

CsvSchema Schema(std::string_view header, const CsvColumns& columns = {}, bool label_optional = false) {
  auto schema = CsvSchema::FromHeader(header, columns, label_optional);
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return std::move(schema).value();
}

TEST(CsvSchemaTest, DefaultsFindTheLabelAndLeaveOutTheRowId) {
  const CsvSchema s = Schema(kAvazuHeader);
  const CsvColumns c = s.resolved();
  EXPECT_EQ(c.label, "click");
  EXPECT_EQ(c.categorical, (std::vector<std::string>{"hour", "C1", "banner_pos", "site_id", "device_type"}));
  EXPECT_TRUE(c.numeric.empty());
  EXPECT_EQ(s.Describe(),
            "comma-separated with a header; label click; 5 categorical (hour, C1, banner_pos, site_id, "
            "device_type); 0 numeric; not used: id");
  Example ex;
  ASSERT_TRUE(s.Parse("10000949,1,14102100,1005,0,1fbe01fe,1\r", &ex).ok());
  EXPECT_EQ(ex.label, 1.0f);
  EXPECT_EQ(ex.fields, (std::vector<uint16_t>{0, 1, 2, 3, 4, 5})) << "five columns and the bias";
  EXPECT_TRUE(ex.dense.empty());
}

TEST(CsvSchemaTest, KeysFollowColumnNamesNotPositions) {
  const CsvSchema a = Schema("click\tsite\tprice\tapp", {"", {"price"}, {}, {}});
  EXPECT_EQ(a.delimiter(), '\t');
  // The same roles in another order, and without a label (a file to score).
  const CsvSchema b = Schema("app\tprice\tsite", {"click", {"price"}, {"site", "app"}, {}}, true);
  EXPECT_FALSE(b.has_label());
  Example ea, eb;
  ASSERT_TRUE(a.Parse("0\tnews.com\t19.5\tgame", &ea).ok());
  ASSERT_TRUE(b.Parse("game\t19.5\tnews.com", &eb).ok());
  EXPECT_EQ(ea.keys, eb.keys);
  EXPECT_EQ(ea.fields, eb.fields);
  EXPECT_EQ(ea.fields, (std::vector<uint16_t>{0, 1, 2, 3})) << "numeric first, then categorical, then the bias";
  ASSERT_EQ(ea.dense.size(), 1u);
  EXPECT_FLOAT_EQ(ea.dense[0], std::log1p(19.5f));
  Example other;
  ASSERT_TRUE(a.Parse("1\tnews.com\t20\tgame", &other).ok());
  EXPECT_EQ(other.keys[0], ea.keys[0]) << "19.5 and 20 share a bucket";
  EXPECT_EQ(other.keys[1], ea.keys[1]);
  EXPECT_EQ(a.resolved().categorical, (std::vector<std::string>{"site", "app"}));
}

TEST(CsvSchemaTest, BadHeadersAndLinesSayWhy) {
  auto error = [](std::string_view header, const CsvColumns& c) {
    return CsvSchema::FromHeader(header, c).status().message();
  };
  EXPECT_EQ(error("a,b,c", {}), "no label column (none is called label, click, target or y): set --label_column");
  EXPECT_EQ(error("a,b,c", {"d", {}, {}, {}}), "--label_column: column 'd' is not in the header");
  EXPECT_EQ(error("a,b,c", {"a", {"b"}, {"b"}, {}}), "column 'b' is given two roles");
  EXPECT_EQ(error("click,id", {}), "no feature column left in the header");

  const CsvSchema s = Schema("click,site,price", {"", {"price"}, {}, {}});
  auto parse = [&](std::string_view line) {
    Example ex;
    return s.Parse(line, &ex).message();
  };
  EXPECT_EQ(parse("1,x"), "expected 3 columns as in the header, got 2");
  EXPECT_EQ(parse("2,x,1"), "click must be 0 or 1, got '2'");
  EXPECT_EQ(parse("1,x,cheap"), "price is not a number: 'cheap'");
  EXPECT_EQ(parse("1,\"x,1"), "unterminated quote in field 2");
  Example ex;
  EXPECT_TRUE(s.Parse("1,\"a, \"\"quoted\"\" site\",", &ex).ok()) << "a quoted delimiter; an empty number";
}

TEST(CsvSchemaTest, SplitDelimitedQuoting) {
  std::vector<std::string_view> f;
  ASSERT_TRUE(SplitDelimited("a,\"b,c\",,\"\"", ',', &f).ok());
  EXPECT_EQ(f, (std::vector<std::string_view>{"a", "b,c", "", ""}));
  EXPECT_FALSE(SplitDelimited("\"a\"b,c", ',', &f).ok());
}

// Detection looks at content: an Avazu-like file is csv under any name,
// ratings.csv stays movielens-csv, and a Criteo file with a header line is
// Criteo whose header is skipped.
TEST(CsvSchemaTest, DetectedByContent) {
  testing::ScratchDir dir;
  const std::string avazu = std::string(kAvazuHeader) + "\n10000949,1,14102100,1005,0,1fbe01fe,1\n"
                                                        "10000950,0,14102100,1005,1,85f751fd,1\n";
  EXPECT_EQ(DetectFileFormat(dir.Write("train.csv", avazu)).value(), Format::kCsv);
  EXPECT_EQ(DetectFileFormat(dir.Write("train.txt", avazu)).value(), Format::kCsv);
  EXPECT_EQ(DetectFileFormat(dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n"))
                .value(),
            Format::kMovieLensCsv);
  std::string criteo = "label";
  for (int i = 1; i <= 39; ++i) criteo += "\tf" + std::to_string(i);
  criteo += "\n1";
  for (int i = 0; i < 13; ++i) criteo += "\t" + std::to_string(i);
  for (int i = 0; i < 26; ++i) criteo += "\tab12cd34";
  EXPECT_EQ(DetectFileFormat(dir.Write("day.txt", criteo + "\n")).value(), Format::kCriteo);

  // The reader reads the header of the file, in every partition.
  auto parts = PlanPartitions(dir.File("train.txt"), 2);
  ASSERT_TRUE(parts.ok());
  size_t rows = 0;
  for (const Partition& p : *parts) {
    auto reader = ExampleReader::Open(p, Format::kCsv, ReaderOptions());
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    ASSERT_NE((*reader)->csv_schema(), nullptr);
    std::vector<Example> out;
    rows += (*reader)->NextBatch(10, &out).value();
    EXPECT_EQ((*reader)->bad_lines(), 0u);
  }
  EXPECT_EQ(rows, 2u);
}

}  // namespace
}  // namespace embedps::data
