// End to end on a subset of MovieLens 100K: `embedps local --model ncf`
// without --test holds out each user's latest interaction, trains NeuMF and
// ranks every held-out item against 99 sampled negatives. The model must
// rank far better than chance, whose levels follow from the protocol alone.
// Then the exported model drives `embedps predict` and `embedps recommend`
// as real processes. Skips when the shared data is absent.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/rating_metrics.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"
#include "worker/eval/interactions.h"

namespace embedps {
namespace {

constexpr uint64_t kMaxUser = 400;

// HR@10 and NDCG@10 of a model that ranks the held-out item uniformly at
// random among the 100 candidates.
double ChanceHr() {
  double sum = 0;
  for (int rank = 0; rank < 100; ++rank) sum += HitAtK(rank, 10);
  return sum / 100;
}
double ChanceNdcg() {
  double sum = 0;
  for (int rank = 0; rank < 100; ++rank) sum += NdcgAtK(rank, 10);
  return sum / 100;
}

// The ratings of users 1..kMaxUser; returns how many users there are.
size_t WriteSubset(const std::string& from, const std::string& to) {
  std::ifstream in(from);
  std::ofstream out(to);
  std::set<uint64_t> users;
  for (std::string line; std::getline(in, line);) {
    const uint64_t user = std::stoull(line);
    if (user > kMaxUser) continue;
    users.insert(user);
    out << line << "\n";
  }
  return users.size();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(NcfRankingTest, LeaveOneOutBeatsChanceAndTheExportServes) {
  const std::string ml = testing::SharedDataDir() + "/ml-100k";
  if (!std::filesystem::exists(ml + "/u.data")) {
    GTEST_SKIP() << "MovieLens 100K not found at " << ml << " (set EMBEDPS_DATA_DIR); skipping";
  }
  testing::ScratchDir dir;
  const std::string data = dir.File("u.data");
  const size_t users = WriteSubset(ml + "/u.data", data);
  const std::string run_dir = dir.File("run");
  auto run = testing::RunBinary("embedps",
                                {"local", "--model=ncf", "--train=" + data, "--passes=8", "--factors=16",
                                 "--servers=1", "--workers=2", "--http_port=-1", "--run_dir=" + run_dir,
                                 "--summary_json=" + dir.File("summary.json")},
                                dir.File("local.log"), std::chrono::seconds(50));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("test HR@10"), std::string::npos) << run.output;
  const auto summary = nlohmann::json::parse(testing::ReadFile(dir.File("summary.json")));
  // One held-out interaction per user, the rest trained on.
  EXPECT_EQ(summary["test_rows"].get<uint64_t>(), users);
  EXPECT_EQ(Lines(testing::ReadFile(run_dir + "/test.heldout")).size(), users);
  EXPECT_EQ(Lines(testing::ReadFile(run_dir + "/train.split")).size() + users,
            Lines(testing::ReadFile(data)).size());
  const double hr = summary["test_hr_at_10"].get<double>();
  const double ndcg = summary["test_ndcg_at_10"].get<double>();
  std::printf("NCF on %zu users: HR@10 %.4f (chance %.3f), NDCG@10 %.4f (chance %.4f)\n", users, hr,
              ChanceHr(), ndcg, ChanceNdcg());
  EXPECT_GT(hr, 3 * ChanceHr());
  EXPECT_GT(ndcg, 3 * ChanceNdcg());
  EXPECT_LE(ndcg, hr);  // NDCG credits a hit with at most 1
  for (const char* key : {"test_precision_at_10", "test_recall_at_10"}) {
    ASSERT_TRUE(summary.contains(key)) << summary.dump();
    // One relevant item per user: recall@10 is a full-catalog hit rate, precision a tenth of it.
    EXPECT_GT(summary[key].get<double>(), 0.0) << key;
  }
  EXPECT_NEAR(summary["test_precision_at_10"].get<double>() * 10, summary["test_recall_at_10"].get<double>(),
              1e-9);

  // predict: one probability per held-out line.
  const std::string model = run_dir + "/model";
  auto predict = testing::RunBinary("embedps",
                                    {"predict", "--model=" + model, "--input=" + run_dir + "/test.heldout",
                                     "--output=" + dir.File("scores.txt")},
                                    dir.File("predict.log"), std::chrono::seconds(20));
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  const auto scores = Lines(testing::ReadFile(dir.File("scores.txt")));
  ASSERT_EQ(scores.size(), users);
  for (const auto& s : scores) {
    const double p = std::stod(s);
    EXPECT_TRUE(p > 0 && p < 1) << s;
  }

  // recommend: 10 items user 1 did not interact with in training.
  auto seen = worker::ReadInteractionsFile(model + "/" + worker::kInteractionsFile);
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  auto rec = testing::RunBinary("embedps", {"recommend", "--model=" + model, "--user=1", "--k=10", "--json"},
                                dir.File("recommend.log"), std::chrono::seconds(20));
  ASSERT_EQ(rec.exit_code, 0) << rec.output;
  const size_t at = rec.output.find('{');
  ASSERT_NE(at, std::string::npos) << rec.output;
  const auto answer = nlohmann::json::parse(rec.output.substr(at, rec.output.find('\n', at) - at));
  ASSERT_EQ(answer["items"].size(), 10u);
  double previous = 2;
  for (const auto& item : answer["items"]) {
    EXPECT_FALSE(seen->Has(1, item["item"].get<uint64_t>())) << item.dump();
    EXPECT_LE(item["score"].get<double>(), previous);
    previous = item["score"].get<double>();
  }
}

}  // namespace
}  // namespace embedps
