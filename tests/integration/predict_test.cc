// `embedps predict` as a real process on a planted MF model: one predicted
// rating per good line in input order (clipped to the trained range),
// malformed lines skipped and counted, too many of them an error that
// leaves no output file.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/planted_mf.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

std::vector<double> Numbers(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  for (double v; in >> v;) out.push_back(v);
  return out;
}

TEST(PredictTest, ScoresGoodLinesInOrderAndSkipsBadOnes) {
  testing::ScratchDir dir;
  testing::PlantedMf m;
  m.item_bias = {{1, 0.5f}, {2, -1.0f}, {3, 0.0f}};
  m.item_factor = {{1, 1.0f}, {2, 0.0f}, {3, 2.0f}};
  m.user_factor = {{7, 3.0f}, {8, -0.25f}};
  m.seen = {{7, 1}, {8, 2}, {8, 3}};
  ASSERT_TRUE(testing::WritePlantedMf(dir.File("model"), m).ok());
  // gzip input, one malformed line among them.
  const std::string input = dir.WriteGzip("in.data.gz",
                                          "7\t1\t5\t1\n8\t1\t3\t1\n7\t3\tx\t1\n8\t2\t1\t1\n8\t3\t4\t1\n");
  auto run = testing::RunBinary("embedps",
                                {"predict", "--model=" + dir.File("model"), "--input=" + input,
                                 "--output=" + dir.File("scores.txt"), "--max_bad_line_fraction=0.5"},
                                dir.File("predict.log"), std::chrono::seconds(20));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<double> scores = Numbers(testing::ReadFile(dir.File("scores.txt")));
  // 3 + 0.5 + 3 * 1 = 6.5 clips to 5; 3.5 - 0.25; 3 - 1; 3 + (-0.25) * 2.
  const std::vector<double> expected = {5.0, 3.25, 2.0, 2.5};
  ASSERT_EQ(scores.size(), expected.size()) << testing::ReadFile(dir.File("scores.txt"));
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(scores[i], expected[i], 1e-5) << "line " << i;
  EXPECT_NE(run.output.find("1 malformed lines skipped"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(":3:"), std::string::npos) << "the bad line's number is logged: " << run.output;

  // Past the threshold (1% by default) the run fails and writes nothing.
  auto strict = testing::RunBinary("embedps",
                                   {"predict", "--model=" + dir.File("model"), "--input=" + input,
                                    "--output=" + dir.File("strict.txt")},
                                   dir.File("strict.log"), std::chrono::seconds(20));
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_NE(strict.output.find("malformed"), std::string::npos) << strict.output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("strict.txt")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("strict.txt.tmp")));
}

// `--input -` scores standard input (FOUND.md 12), as a pipe from another
// tool gives it.
TEST(PredictTest, ScoresStandardInput) {
  testing::ScratchDir dir;
  testing::PlantedMf m;
  m.item_bias = {{1, 0.5f}, {2, -1.0f}};
  m.item_factor = {{1, 1.0f}, {2, 0.0f}};
  m.user_factor = {{8, -0.25f}};
  m.seen = {{8, 2}};
  ASSERT_TRUE(testing::WritePlantedMf(dir.File("model"), m).ok());
  const std::string input = dir.Write("in.txt", "8\t1\t3\t1\n8\t2\t1\t1\n");
  std::filesystem::create_directory(dir.File("tmp"));
  auto run = testing::RunProgram("/bin/sh",
                                 {"-c", "TMPDIR=" + dir.File("tmp") + " " + testing::BinDir() +
                                            "/embedps predict --model=" + dir.File("model") +
                                            " --input=- --output=" + dir.File("scores.txt") + " < " + input},
                                 dir.File("predict.log"), std::chrono::seconds(20));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<double> scores = Numbers(testing::ReadFile(dir.File("scores.txt")));
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_NEAR(scores[0], 3.25, 1e-5);
  EXPECT_NEAR(scores[1], 2.0, 1e-5);
  EXPECT_NE(run.output.find("scored 2 rows of standard input"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::is_empty(dir.File("tmp"))) << "the copy of standard input is removed";
}

}  // namespace
}  // namespace embedps
