// What a job prints and reports while it trains: each loss named for what
// it is (squared error for a rating model, log loss for a click model) in
// the progress lines, the summary, the statistics and /status, and the
// progress lines' share done and time to go.
#include <random>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/criteo_data.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

// MovieLens-style ratings (user, item, rating, time) of a planted model, so
// a rating model has something to learn.
std::string PlantedRatings(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.3);
  std::ostringstream out;
  for (size_t i = 0; i < rows; ++i) {
    const int user = 1 + static_cast<int>(rng() % 200), item = 1 + static_cast<int>(rng() % 150);
    const double taste = ((user % 5) - 2) * ((item % 5) - 2) * 0.25;
    const int rating = static_cast<int>(std::clamp(std::lround(3 + taste + noise(rng)), 1L, 5L));
    out << user << "\t" << item << "\t" << rating << "\t" << 881250949 + i << "\n";
  }
  return out.str();
}

testing::RunResult RunLocal(const testing::ScratchDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"local", "--servers=1", "--workers=2", "--progress_interval_s=0.2",
                             "--summary_json=" + dir.File("summary.json"), "--run_dir=" + dir.File("run")});
  return testing::RunBinary("embedps", args, dir.File("local.log"), std::chrono::seconds(120));
}

TEST(ProgressReportTest, ARatingModelReportsSquaredErrorNotLogLoss) {
  testing::ScratchDir dir;
  const std::string ratings = dir.Write("ratings.data", PlantedRatings(20000, 5));
  const auto run = RunLocal(dir, {"--model=mf", "--factors=4", "--passes=6", "--batch_size=64",
                                  "--train=" + ratings, "--test=" + ratings});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("logloss"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("mean train squared error"), std::string::npos) << run.output;
  // Progress lines name the loss and say how far the job is.
  const std::regex progress(R"(progress: \d+ rows, \d+ rows/s, (squared error [0-9.]+ \(last \d+ s\)|no rows trained in the last \d+ s), partitions \d+/\d+ \(\d+%(, about \d+ s to go)?\))");
  EXPECT_TRUE(std::regex_search(run.output, progress)) << run.output;
  const auto stats = nlohmann::json::parse(testing::ReadFile(dir.File("run/train_stats.json")));
  EXPECT_EQ(stats["loss"], "squared_error");
  EXPECT_FALSE(stats.contains("train_logloss"));
  EXPECT_GT(stats["train_loss"].get<double>(), 0.0);
}

TEST(ProgressReportTest, AClickModelReportsLogLossAndTheShareDone) {
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 40000, 3);
  const auto run = RunLocal(dir, {"--model=lr", "--passes=8", "--batch_size=200", "--train=" + train,
                                  "--test=" + train});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("mean train logloss"), std::string::npos) << run.output;
  const std::regex with_eta(R"(progress: \d+ rows, \d+ rows/s, logloss [0-9.]+ \(last \d+ s\), partitions \d+/\d+ \(\d+%, about \d+ s to go\))");
  EXPECT_TRUE(std::regex_search(run.output, with_eta)) << run.output;
  const auto stats = nlohmann::json::parse(testing::ReadFile(dir.File("run/train_stats.json")));
  EXPECT_EQ(stats["loss"], "logloss");
  EXPECT_DOUBLE_EQ(stats["train_logloss"].get<double>(), stats["train_loss"].get<double>());
}

}  // namespace
}  // namespace embedps
