// Input specs: comma-separated lists and globs, and gzip detection.
#include "common/input_files.h"

#include <gtest/gtest.h>

#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

TEST(InputFilesTest, ListsAndGlobs) {
  testing::ScratchDir dir;
  for (const char* name : {"day_2.tsv", "day_0.tsv", "day_1.tsv.gz", "other.txt"}) dir.Write(name, "x\n");
  auto files = ExpandInputs(dir.File("day_*"));
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, (std::vector<std::string>{dir.File("day_0.tsv"), dir.File("day_1.tsv.gz"),
                                              dir.File("day_2.tsv")}))
      << "sorted by name";
  files = ExpandInputs(dir.File("other.txt") + ",," + dir.File("day_?.tsv"));
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files, (std::vector<std::string>{dir.File("other.txt"), dir.File("day_0.tsv"),
                                              dir.File("day_2.tsv")}));
  // A name without glob characters is kept even when missing; opening it
  // reports the error with the file's name.
  files = ExpandInputs(dir.File("missing.tsv"));
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 1u);
}

TEST(InputFilesTest, Errors) {
  testing::ScratchDir dir;
  EXPECT_EQ(ExpandInputs("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExpandInputs(",").status().code(), StatusCode::kInvalidArgument);
  auto none = ExpandInputs(dir.File("*.nothing"));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("*.nothing"), std::string::npos);
}

TEST(InputFilesTest, GzipIsDetectedByContent) {
  testing::ScratchDir dir;
  EXPECT_TRUE(IsGzipFile(dir.WriteGzip("named.txt", "abc\n")).value());
  EXPECT_FALSE(IsGzipFile(dir.Write("plain.gz", "abc\n")).value());
  EXPECT_FALSE(IsGzipFile(dir.Write("empty", "")).value());
  EXPECT_EQ(IsGzipFile(dir.File("missing")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace embedps
