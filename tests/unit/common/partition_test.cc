#include "common/partition.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

class PartitionTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    return scratch_.Write(name, content);
  }
  std::string dir() const { return scratch_.path(); }

  embedps::testing::ScratchDir scratch_;
};

// Lines of random length 0..max_len (some empty), each newline-terminated.
std::string RandomLines(int lines, int max_len, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  for (int i = 0; i < lines; ++i) {
    s.append(rng() % (max_len + 1), static_cast<char>('a' + i % 26));
    s.push_back('\n');
  }
  return s;
}

// The invariants every plan must satisfy, whatever the count.
void ExpectValidPlan(const std::string& content, const std::string& path,
                     const std::vector<Partition>& parts, uint32_t count) {
  ASSERT_FALSE(parts.empty());
  ASSERT_LE(parts.size(), count);
  EXPECT_EQ(parts.front().begin, 0u);
  EXPECT_EQ(parts.back().end, content.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const Partition& p = parts[i];
    EXPECT_EQ(p.id, i);
    EXPECT_EQ(p.file, path);
    EXPECT_LT(p.begin, p.end) << "partition " << i << " is empty";
    if (i > 0) {
      EXPECT_EQ(p.begin, parts[i - 1].end) << "gap or overlap before partition " << i;
      EXPECT_EQ(content[p.begin - 1], '\n') << "partition " << i << " starts mid-line";
    }
    const uint64_t newlines_before =
        std::count(content.begin(), content.begin() + p.begin, '\n');
    EXPECT_EQ(p.first_line, newlines_before + 1) << "partition " << i;
  }
}

TEST_F(PartitionTest, CoversFileExactlyAtLineStarts) {
  const std::string content = RandomLines(5000, 80, 7);
  const std::string path = Write("data.txt", content);
  for (uint32_t count : {1u, 2u, 3u, 7u, 16u, 100u}) {
    SCOPED_TRACE(count);
    auto parts = PlanPartitions(path, count);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    ExpectValidPlan(content, path, *parts, count);
    // Many short lines: every target finds its own line start.
    EXPECT_EQ(parts->size(), count);
    // Similar sizes: each partition is within one line of the ideal size.
    for (const Partition& p : *parts) {
      EXPECT_LE(p.end - p.begin, content.size() / count + 2 * 81);
    }
  }
}

TEST_F(PartitionTest, SpansManyReadBlocks) {
  // ~13 MiB: cuts and line numbers must be right across 4 MiB block edges.
  const std::string content = RandomLines(300000, 90, 11);
  const std::string path = Write("big.txt", content);
  auto parts = PlanPartitions(path, 9);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ExpectValidPlan(content, path, *parts, 9);
  EXPECT_EQ(parts->size(), 9u);
}

TEST_F(PartitionTest, FewLinesGiveFewerPartitions) {
  const std::string content = "first line\nsecond\nthird line is longer\n";
  const std::string path = Write("few.txt", content);
  auto parts = PlanPartitions(path, 10);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ExpectValidPlan(content, path, *parts, 10);
  EXPECT_LE(parts->size(), 3u);
  EXPECT_GE(parts->size(), 2u);
}

TEST_F(PartitionTest, SingleLineWithoutNewline) {
  const std::string content = "only line, no newline";
  const std::string path = Write("one.txt", content);
  auto parts = PlanPartitions(path, 4);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].begin, 0u);
  EXPECT_EQ((*parts)[0].end, content.size());
  EXPECT_EQ((*parts)[0].first_line, 1u);
}

TEST_F(PartitionTest, LastLineWithoutNewlineIsCovered) {
  std::string content = RandomLines(1000, 40, 3) + "tail without newline";
  const std::string path = Write("tail.txt", content);
  auto parts = PlanPartitions(path, 5);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ExpectValidPlan(content, path, *parts, 5);
}

TEST_F(PartitionTest, CountOneIsWholeFile) {
  const std::string content = RandomLines(100, 30, 5);
  const std::string path = Write("whole.txt", content);
  auto parts = PlanPartitions(path, 1);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].end, content.size());
}

TEST_F(PartitionTest, GzipFileIsOnePartition) {
  const std::string path = scratch_.WriteGzip("data.gz", RandomLines(5000, 80, 9));
  auto parts = PlanPartitions(path, 7);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].begin, 0u);
  EXPECT_EQ((*parts)[0].end, std::filesystem::file_size(path));
  EXPECT_EQ((*parts)[0].first_line, 1u);
}

TEST_F(PartitionTest, ManyFilesShareTheCountBySize) {
  const std::string big = RandomLines(6000, 80, 1), small = RandomLines(2000, 80, 2);
  const std::string a = Write("a.txt", big), b = Write("b.txt", small);
  const std::string c = scratch_.WriteGzip("c.gz", small);
  Write("d.txt", "");  // empty: skipped
  auto parts = PlanInputPartitions({dir() + "/a.txt," + dir() + "/b.txt", dir() + "/[cd]*"}, 8);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  std::map<std::string, std::vector<Partition>> by_file;
  for (size_t i = 0; i < parts->size(); ++i) {
    EXPECT_EQ((*parts)[i].id, i);
    by_file[(*parts)[i].file].push_back((*parts)[i]);
  }
  ASSERT_EQ(by_file.size(), 3u);
  // Each file's share is a valid plan of that file on its own (renumbered).
  for (auto& [file, plan] : by_file) {
    for (size_t i = 0; i < plan.size(); ++i) plan[i].id = static_cast<uint32_t>(i);
  }
  ExpectValidPlan(big, a, by_file[a], 8);
  ExpectValidPlan(small, b, by_file[b], 8);
  EXPECT_GT(by_file[a].size(), by_file[b].size());
  EXPECT_EQ(by_file[c].size(), 1u);
  // File order is kept: a's partitions, then b's, then c.
  EXPECT_EQ(parts->front().file, a);
  EXPECT_EQ(parts->back().file, c);
}

TEST_F(PartitionTest, ManyFilesErrors) {
  EXPECT_EQ(PlanInputPartitions({dir() + "/none-*.txt"}, 4).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(PlanInputPartitions({dir() + "/missing.txt"}, 4).status().code(), StatusCode::kNotFound);
  Write("e1.txt", "");
  Write("e2.txt", "");
  EXPECT_EQ(PlanInputPartitions({dir() + "/e*.txt"}, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanInputPartitions({Write("x.txt", "a\n")}, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanInputPartitions({}, 4).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PartitionTest, Errors) {
  auto missing = PlanPartitions(dir() + "/does-not-exist.txt", 4);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  auto empty = PlanPartitions(Write("empty.txt", ""), 4);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);

  auto zero = PlanPartitions(Write("x.txt", "a\nb\n"), 0);
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embedps
