#include "worker/data/criteo_reader.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_dirs.h"

#include "common/partition.h"

namespace embedps::data {
namespace {

class CriteoReaderTest : public ::testing::Test {
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
                              CriteoReader** keep = nullptr, Status* error = nullptr) {
  auto reader = CriteoReader::Open(p, opts);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return {};
  std::vector<uint64_t> ids;
  std::vector<CriteoExample> out;
  while (true) {
    auto n = (*reader)->NextBatch(batch, &out);
    if (!n.ok()) {
      if (error) *error = n.status();
      break;
    }
    EXPECT_EQ(*n, out.size());
    EXPECT_LE(*n, batch);
    if (*n == 0) break;
    for (const CriteoExample& ex : out) ids.push_back(ex.keys[kCriteoIntFields]);
  }
  if (keep) *keep = reader->release();
  return ids;
}

TEST_F(CriteoReaderTest, PartitionsTogetherReadEveryLineOnce) {
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
      CriteoReader* raw = nullptr;
      auto ids = ReadAll(p, ReaderOptions(), 97, &raw);
      std::unique_ptr<CriteoReader> reader(raw);
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

TEST_F(CriteoReaderTest, SmallBufferAndLongLines) {
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

TEST_F(CriteoReaderTest, LastLineWithoutNewlineAndCrlfAndBlankLines) {
  const std::string content = GoodLine(0) + "\r\n\n" + GoodLine(1) + "\n\r\n" + GoodLine(2);
  const std::string path = Write("crlf.txt", content);
  CriteoReader* raw = nullptr;
  auto ids = ReadAll(WholeFile(path), ReaderOptions(), 100, &raw);
  std::unique_ptr<CriteoReader> reader(raw);
  EXPECT_EQ(ids, (std::vector<uint64_t>{IdKey(0), IdKey(1), IdKey(2)}));
  EXPECT_EQ(reader->lines_read(), 3u);  // blank lines are not counted
  EXPECT_EQ(reader->bad_lines(), 0u);
  EXPECT_EQ(reader->bytes_read(), content.size());
}

TEST_F(CriteoReaderTest, SkipsAndCountsBadLinesUnderThreshold) {
  std::string content;
  for (int i = 0; i < 2000; ++i) {
    content += (i % 500 == 7 ? std::string("garbage\tline") : GoodLine(i)) + "\n";
  }
  const std::string path = Write("few_bad.txt", content);
  CriteoReader* raw = nullptr;
  Status error;
  auto ids = ReadAll(WholeFile(path), ReaderOptions(), 256, &raw, &error);
  std::unique_ptr<CriteoReader> reader(raw);
  EXPECT_TRUE(error.ok()) << error.ToString();
  EXPECT_EQ(ids.size(), 1996u);
  EXPECT_EQ(reader->bad_lines(), 4u);
  EXPECT_EQ(reader->lines_read(), 2000u);
}

TEST_F(CriteoReaderTest, FailsPastThresholdNamingTheFile) {
  std::string content;
  for (int i = 0; i < 3000; ++i) {
    content += (i % 20 == 19 ? std::string("1\tbad") : GoodLine(i)) + "\n";  // 5% bad
  }
  const std::string path = Write("mostly_bad.txt", content);
  CriteoReader* raw = nullptr;
  Status error;
  ReadAll(WholeFile(path), ReaderOptions(), 100, &raw, &error);
  std::unique_ptr<CriteoReader> reader(raw);
  ASSERT_EQ(error.code(), StatusCode::kInvalidArgument);
  const std::string& msg = error.message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("max_bad_line_fraction 0.01"), std::string::npos) << msg;
  EXPECT_NE(msg.find(" of 1000 lines"), std::string::npos) << "checked at the minimum: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
  // Line numbers are 1-based file lines: bad lines are 20, 40, ... 1000.
  EXPECT_NE(msg.find("last at line 1000: expected 40 fields, got 2"), std::string::npos) << msg;
  // Sticky: the reader does not resume after a failure.
  std::vector<CriteoExample> out;
  EXPECT_EQ(reader->NextBatch(10, &out).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

TEST_F(CriteoReaderTest, EndOfPartitionCheckCatchesSmallFiles) {
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

TEST_F(CriteoReaderTest, LineNumbersFollowPartitionFirstLine) {
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

TEST_F(CriteoReaderTest, OpenErrors) {
  Partition missing;
  missing.file = dir() + "/missing.txt";
  EXPECT_EQ(CriteoReader::Open(missing, ReaderOptions()).status().code(), StatusCode::kNotFound);

  const std::string content = GoodLine(0) + "\n" + GoodLine(1) + "\n";
  const std::string path = Write("two.txt", content);
  Partition p = WholeFile(path);
  p.end = content.size() + 1;
  EXPECT_EQ(CriteoReader::Open(p, ReaderOptions()).status().code(),
            StatusCode::kInvalidArgument);
  p = WholeFile(path);
  p.begin = 5;  // mid-line
  EXPECT_EQ(CriteoReader::Open(p, ReaderOptions()).status().code(),
            StatusCode::kInvalidArgument);
  p = WholeFile(path);
  p.begin = p.end;
  p.end = 0;
  EXPECT_EQ(CriteoReader::Open(p, ReaderOptions()).status().code(),
            StatusCode::kInvalidArgument);
  // Zero rows would be indistinguishable from the end of the partition.
  auto reader = CriteoReader::Open(WholeFile(path), ReaderOptions());
  ASSERT_TRUE(reader.ok());
  std::vector<CriteoExample> out;
  EXPECT_EQ((*reader)->NextBatch(0, &out).status().code(), StatusCode::kInvalidArgument);
  // An empty range at a line start is valid and simply has no examples.
  p = WholeFile(path);
  p.begin = p.end = GoodLine(0).size() + 1;
  EXPECT_TRUE(ReadAll(p, ReaderOptions(), 10).empty());
}

}  // namespace
}  // namespace embedps::data
