#include "worker/data/example_reader.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

#include "common/partition.h"
#include "worker/data/criteo_parser.h"
#include "worker/data/rating_parser.h"

namespace embedps::data {
namespace {

class ExampleReaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    return scratch_.Write(name, content);
  }
  std::string dir() const { return scratch_.path(); }

  embedps::testing::ScratchDir scratch_;
};

// A valid line whose first integer field carries `id`, so examples can be
// told apart after hashing (id -> bucket is not injective, so C1 carries it
// too).
std::string GoodLine(int id) {
  std::string line = std::to_string(id % 2);
  for (int i = 0; i < kCriteoIntFields; ++i) line += "\t" + std::to_string(i == 0 ? id : i);
  for (int j = 0; j < kCriteoCatFields; ++j) {
    line += "\t";
    line += j == 0 ? "id" + std::to_string(id) : "abcdef0" + std::to_string(j % 10);
  }
  return line;
}

uint64_t IdKey(int id) { return FeatureKey(kCriteoIntFields, "id" + std::to_string(id)); }

Partition WholeFile(const std::string& path) {
  auto parts = PlanPartitions(path, 1);
  CHECK(parts.ok()) << parts.status().ToString();
  return (*parts)[0];
}

// Reads a partition to the end in batches of `batch`; the ids in order.
std::vector<uint64_t> ReadAll(const Partition& p, const ReaderOptions& opts, size_t batch,
                              ExampleReader** keep = nullptr, Status* error = nullptr) {
  auto reader = ExampleReader::Open(p, Format::kCriteo, opts);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return {};
  std::vector<uint64_t> ids;
  std::vector<Example> out;
  while (true) {
    auto n = (*reader)->NextBatch(batch, &out);
    if (!n.ok()) {
      if (error) *error = n.status();
      break;
    }
    EXPECT_EQ(*n, out.size());
    EXPECT_LE(*n, batch);
    if (*n == 0) break;
    for (const Example& ex : out) ids.push_back(ex.keys[kCriteoIntFields]);
  }
  if (keep) *keep = reader->release();
  return ids;
}

TEST_F(ExampleReaderTest, PartitionsTogetherReadEveryLineOnce) {
  std::string content;
  std::vector<uint64_t> expected;
  for (int i = 0; i < 3000; ++i) {
    content += GoodLine(i) + "\n";
    expected.push_back(IdKey(i));
  }
  const std::string path = Write("train.txt", content);
  for (uint32_t count : {1u, 3u, 8u}) {
    SCOPED_TRACE(count);
    auto parts = PlanPartitions(path, count);
    ASSERT_TRUE(parts.ok());
    std::vector<uint64_t> all;
    uint64_t bytes = 0;
    for (const Partition& p : *parts) {
      ExampleReader* raw = nullptr;
      auto ids = ReadAll(p, ReaderOptions(), 97, &raw);
      std::unique_ptr<ExampleReader> reader(raw);
      EXPECT_EQ(reader->lines_read(), ids.size());
      EXPECT_EQ(reader->bad_lines(), 0u);
      EXPECT_EQ(reader->bytes_read(), p.end - p.begin);
      bytes += reader->bytes_read();
      all.insert(all.end(), ids.begin(), ids.end());
    }
    EXPECT_EQ(all, expected);
    EXPECT_EQ(bytes, content.size());
  }
}

// A header line of column names is skipped in every format, not counted as
// malformed once per pass; a malformed first line with numbers is counted.
TEST_F(ExampleReaderTest, HeaderLinesAreSkippedNotCounted) {
  std::string header = "label";
  for (int i = 1; i <= kCriteoIntFields; ++i) header += "\tI" + std::to_string(i);
  for (int j = 1; j <= kCriteoCatFields; ++j) header += "\tC" + std::to_string(j);
  std::string content = header + "\r\n";
  for (int i = 0; i < 20; ++i) content += GoodLine(i) + "\n";
  for (int pass = 0; pass < 2; ++pass) {
    ExampleReader* raw = nullptr;
    const auto ids = ReadAll(WholeFile(Write("header.tsv", content)), ReaderOptions(), 7, &raw);
    std::unique_ptr<ExampleReader> reader(raw);
    EXPECT_EQ(ids.size(), 20u);
    EXPECT_EQ(reader->bad_lines(), 0u) << "pass " << pass;
    EXPECT_EQ(reader->lines_read(), 20u);
  }
  ReaderOptions lenient;
  lenient.max_bad_line_fraction = 0.5;
  ExampleReader* raw = nullptr;
  ReadAll(WholeFile(Write("bad-first.tsv", "1\t2\tthree\n" + GoodLine(1) + "\n")), lenient, 7, &raw);
  std::unique_ptr<ExampleReader> reader(raw);
  EXPECT_EQ(reader->bad_lines(), 1u) << "a first line with numbers is data, malformed";

  auto ratings = ExampleReader::Open(WholeFile(Write("ratings.tsv", "user_id\titem_id\trating\n3\t4\t4.5\n")),
                                     Format::kMovieLensTab, ReaderOptions());
  ASSERT_TRUE(ratings.ok());
  std::vector<Example> out;
  ASSERT_EQ((*ratings)->NextBatch(10, &out).value(), 1u);
  EXPECT_EQ(out[0].label, 4.5f);
  EXPECT_EQ((*ratings)->bad_lines(), 0u);
}

TEST_F(ExampleReaderTest, SmallBufferAndLongLines) {
  // Lines longer than the buffer force it to grow; many refills per line.
  std::string content;
  for (int i = 0; i < 50; ++i) content += GoodLine(i) + "\n";
  const std::string path = Write("small.txt", content);
  ReaderOptions opts;
  opts.buffer_bytes = 64;
  auto ids = ReadAll(WholeFile(path), opts, 7);
  ASSERT_EQ(ids.size(), 50u);
  EXPECT_EQ(ids[49], IdKey(49));
}

TEST_F(ExampleReaderTest, LastLineWithoutNewlineAndCrlfAndBlankLines) {
  const std::string content = GoodLine(0) + "\r\n\n" + GoodLine(1) + "\n\r\n" + GoodLine(2);
  const std::string path = Write("crlf.txt", content);
  ExampleReader* raw = nullptr;
  auto ids = ReadAll(WholeFile(path), ReaderOptions(), 100, &raw);
  std::unique_ptr<ExampleReader> reader(raw);
  EXPECT_EQ(ids, (std::vector<uint64_t>{IdKey(0), IdKey(1), IdKey(2)}));
  EXPECT_EQ(reader->lines_read(), 3u);  // blank lines are not counted
  EXPECT_EQ(reader->bad_lines(), 0u);
  EXPECT_EQ(reader->bytes_read(), content.size());
}

TEST_F(ExampleReaderTest, SkipsAndCountsBadLinesUnderThreshold) {
  std::string content;
  for (int i = 0; i < 2000; ++i) {
    content += (i % 500 == 7 ? std::string("garbage\tline") : GoodLine(i)) + "\n";
  }
  const std::string path = Write("few_bad.txt", content);
  ExampleReader* raw = nullptr;
  Status error;
  auto ids = ReadAll(WholeFile(path), ReaderOptions(), 256, &raw, &error);
  std::unique_ptr<ExampleReader> reader(raw);
  EXPECT_TRUE(error.ok()) << error.ToString();
  EXPECT_EQ(ids.size(), 1996u);
  EXPECT_EQ(reader->bad_lines(), 4u);
  EXPECT_EQ(reader->lines_read(), 2000u);
}

TEST_F(ExampleReaderTest, FailsPastThresholdNamingTheFile) {
  std::string content;
  for (int i = 0; i < 3000; ++i) {
    content += (i % 20 == 19 ? std::string("1\tbad") : GoodLine(i)) + "\n";  // 5% bad
  }
  const std::string path = Write("mostly_bad.txt", content);
  ExampleReader* raw = nullptr;
  Status error;
  ReadAll(WholeFile(path), ReaderOptions(), 100, &raw, &error);
  std::unique_ptr<ExampleReader> reader(raw);
  ASSERT_EQ(error.code(), StatusCode::kInvalidArgument);
  const std::string& msg = error.message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("max_bad_line_fraction 0.01"), std::string::npos) << msg;
  EXPECT_NE(msg.find(" of 1000 lines"), std::string::npos) << "checked at the minimum: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
  // Line numbers are 1-based file lines: bad lines are 20, 40, ... 1000.
  EXPECT_NE(msg.find("last at line 1000: expected 40 fields (or 14 and more with empty ones trimmed), got 2"), std::string::npos) << msg;
  // Sticky: the reader does not resume after a failure.
  std::vector<Example> out;
  EXPECT_EQ(reader->NextBatch(10, &out).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

TEST_F(ExampleReaderTest, EndOfPartitionCheckCatchesSmallFiles) {
  std::string content;
  for (int i = 0; i < 10; ++i) content += (i == 4 ? std::string("oops") : GoodLine(i)) + "\n";
  const std::string path = Write("tiny.txt", content);
  Status error;
  ReadAll(WholeFile(path), ReaderOptions(), 100, nullptr, &error);
  EXPECT_EQ(error.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(error.message().find("1 of 10 lines"), std::string::npos) << error.message();

  ReaderOptions lenient;
  lenient.max_bad_line_fraction = 0.2;
  error = Status::OK();
  auto ids = ReadAll(WholeFile(path), lenient, 100, nullptr, &error);
  EXPECT_TRUE(error.ok()) << error.ToString();
  EXPECT_EQ(ids.size(), 9u);
}

TEST_F(ExampleReaderTest, LineNumbersFollowPartitionFirstLine) {
  std::string content;
  for (int i = 0; i < 400; ++i) content += (i == 350 ? std::string("x") : GoodLine(i)) + "\n";
  const std::string path = Write("numbered.txt", content);
  auto parts = PlanPartitions(path, 2);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  ReaderOptions strict;
  strict.max_bad_line_fraction = 0;
  Status error;
  ReadAll((*parts)[1], strict, 1000, nullptr, &error);
  EXPECT_NE(error.message().find("last at line 351:"), std::string::npos) << error.message();
}

TEST_F(ExampleReaderTest, OpenErrors) {
  Partition missing;
  missing.file = dir() + "/missing.txt";
  EXPECT_EQ(ExampleReader::Open(missing, Format::kCriteo, ReaderOptions()).status().code(), StatusCode::kNotFound);

  const std::string content = GoodLine(0) + "\n" + GoodLine(1) + "\n";
  const std::string path = Write("two.txt", content);
  Partition p = WholeFile(path);
  p.end = content.size() + 1;
  EXPECT_EQ(ExampleReader::Open(p, Format::kCriteo, ReaderOptions()).status().code(),
            StatusCode::kInvalidArgument);
  p = WholeFile(path);
  p.begin = 5;  // mid-line
  EXPECT_EQ(ExampleReader::Open(p, Format::kCriteo, ReaderOptions()).status().code(),
            StatusCode::kInvalidArgument);
  p = WholeFile(path);
  p.begin = p.end;
  p.end = 0;
  EXPECT_EQ(ExampleReader::Open(p, Format::kCriteo, ReaderOptions()).status().code(),
            StatusCode::kInvalidArgument);
  // Zero rows would be indistinguishable from the end of the partition.
  auto reader = ExampleReader::Open(WholeFile(path), Format::kCriteo, ReaderOptions());
  ASSERT_TRUE(reader.ok());
  std::vector<Example> out;
  EXPECT_EQ((*reader)->NextBatch(0, &out).status().code(), StatusCode::kInvalidArgument);
  // An empty range at a line start is valid and simply has no examples.
  p = WholeFile(path);
  p.begin = p.end = GoodLine(0).size() + 1;
  EXPECT_TRUE(ReadAll(p, ReaderOptions(), 10).empty());
}


// Reads every example of `p` as `format`; the status of the first failure.
StatusOr<std::vector<Example>> ReadExamples(const Partition& p, Format format,
                                            const ReaderOptions& opts = ReaderOptions()) {
  ASSIGN_OR_RETURN(auto reader, ExampleReader::Open(p, format, opts));
  std::vector<Example> all, batch;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, reader->NextBatch(3, &batch));
    if (n == 0) break;
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

TEST_F(ExampleReaderTest, GzipFileIsReadWhole) {
  std::string content;
  for (int i = 0; i < 500; ++i) content += GoodLine(i) + "\n";
  const std::string path = scratch_.WriteGzip("train.tsv.gz", content);
  auto parts = PlanPartitions(path, 4);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u) << "a gzip file cannot be split";
  ExampleReader* raw = nullptr;
  auto ids = ReadAll((*parts)[0], ReaderOptions(), 64, &raw);
  std::unique_ptr<ExampleReader> reader(raw);
  ASSERT_EQ(ids.size(), 500u);
  EXPECT_EQ(ids[0], IdKey(0));
  EXPECT_EQ(ids[499], IdKey(499));
  EXPECT_EQ(reader->bytes_read(), content.size()) << "decompressed bytes";
}

TEST_F(ExampleReaderTest, GzipPartOfFileIsRefused) {
  const std::string path = scratch_.WriteGzip("a.tsv.gz", GoodLine(0) + "\n" + GoodLine(1) + "\n");
  Partition p = WholeFile(path);
  p.end -= 1;
  auto reader = ExampleReader::Open(p, Format::kCriteo, ReaderOptions());
  EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reader.status().message().find("gzip"), std::string::npos) << reader.status().message();
}

TEST_F(ExampleReaderTest, TruncatedOrCorruptGzipIsDataLoss) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += GoodLine(i) + "\n";
  const std::string good = scratch_.WriteGzip("good.gz", content);
  const std::string bytes = testing::ReadFile(good);
  const std::string truncated = Write("truncated.gz", bytes.substr(0, bytes.size() / 2));
  auto read = ReadExamples(WholeFile(truncated), Format::kCriteo);
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss) << read.status().ToString();
  EXPECT_NE(read.status().message().find(truncated), std::string::npos);

  // Garbage may decode into lines before the checksum fails: tolerate them,
  // so the error seen is the stream's.
  std::string flipped = bytes;
  for (size_t i = 40; i < 80; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  ReaderOptions lenient;
  lenient.max_bad_line_fraction = 1;
  read = ReadExamples(WholeFile(Write("corrupt.gz", flipped)), Format::kCriteo, lenient);
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss) << read.status().ToString();
}

TEST_F(ExampleReaderTest, RatingFormatsAndCsvHeader) {
  const std::string csv = Write("ratings.csv",
                                "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n"
                                "1,1029,3.0,1260759179\n");
  auto got = ReadExamples(WholeFile(csv), Format::kMovieLensCsv);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u) << "the header is no example and no bad line";
  EXPECT_EQ((*got)[0].item, 31u);
  EXPECT_EQ((*got)[1].label, 3.0f);
  EXPECT_EQ((*got)[1].keys[1], ItemKey(1029));

  // A header anywhere but line 1 is a bad line.
  const std::string late = Write("late.csv", "1,31,2.5,1\nuserId,movieId,rating,timestamp\n");
  ReaderOptions strict;
  strict.max_bad_line_fraction = 0;
  EXPECT_EQ(ReadExamples(WholeFile(late), Format::kMovieLensCsv, strict).status().code(),
            StatusCode::kInvalidArgument);

  const std::string dat = scratch_.WriteGzip("ratings.dat.gz", "1::1193::5::978300760\n2::3::4::9\n");
  got = ReadExamples(WholeFile(dat), Format::kMovieLensColon);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].user, 1u);
  EXPECT_EQ((*got)[0].timestamp, 978300760);
}

TEST_F(ExampleReaderTest, BadLinesOfAnyFormatNameFileAndLine) {
  const std::string path = Write("u.data", "1\t2\t3\t4\n1\tx\t3\t4\n5\t6\t7\t8\n");
  ReaderOptions strict;
  strict.max_bad_line_fraction = 0;
  auto got = ReadExamples(WholeFile(path), Format::kMovieLensTab, strict);
  ASSERT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find(path + ": 1 of 3 lines malformed"), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find("last at line 2: item id is not an integer: 'x'"),
            std::string::npos)
      << got.status().message();
}

TEST_F(ExampleReaderTest, ReusedBatchKeepsItsBuffers) {
  std::string content;
  for (int i = 0; i < 100; ++i) content += GoodLine(i) + "\n";
  auto reader = ExampleReader::Open(WholeFile(Write("r.tsv", content)), Format::kCriteo,
                                    ReaderOptions());
  ASSERT_TRUE(reader.ok());
  std::vector<Example> batch;
  ASSERT_EQ((*reader)->NextBatch(10, &batch).value(), 10u);
  const uint64_t* keys = batch[3].keys.data();
  ASSERT_EQ((*reader)->NextBatch(10, &batch).value(), 10u);
  EXPECT_EQ(batch[3].keys.data(), keys) << "steady-state batches must not reallocate";
  EXPECT_EQ(batch[3].keys[kCriteoIntFields], IdKey(13));
  EXPECT_EQ(batch[3].dense.size(), static_cast<size_t>(kCriteoIntFields));
}

TEST_F(ExampleReaderTest, MultiFilePartitionsReadEveryLineOnce) {
  // Two plain files of different sizes, one gzip file and an empty file, by
  // glob: every line is read once, in file order.
  std::vector<uint64_t> expected;
  std::string a, b, c;
  for (int i = 0; i < 3000; ++i) {
    (i < 2000 ? a : i < 2500 ? b : c) += GoodLine(i) + "\n";
    expected.push_back(IdKey(i));
  }
  Write("part-0.tsv", a);
  Write("part-1.tsv", b);
  scratch_.WriteGzip("part-2.tsv.gz", c);
  Write("part-3.tsv", "");
  auto parts = PlanInputPartitions({dir() + "/part-*"}, 8);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  std::vector<uint64_t> all;
  size_t of_a = 0;
  for (size_t i = 0; i < parts->size(); ++i) {
    const Partition& p = (*parts)[i];
    EXPECT_EQ(p.id, i);
    of_a += p.file == dir() + "/part-0.tsv";
    auto ids = ReadAll(p, ReaderOptions(), 100);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(all, expected);
  EXPECT_GE(of_a, 4u) << "the largest file gets most partitions";
  EXPECT_EQ(parts->back().file, dir() + "/part-2.tsv.gz");
}

}  // namespace
}  // namespace embedps::data
