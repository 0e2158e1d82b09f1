// A delimited file with a header in Avazu's layout (#10 item 5), trained on
// by real processes: detected by content under a .csv name, columns given
// roles by name, learned (the clicks follow a planted model), and scored by
// predict from a file without the label and with its columns in another
// order. DeepFM gets one field per categorical column.
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

struct Row {
  std::string id, click, hour, c1, banner_pos, site_id, device_type, price;
};

// Clicks from a planted logistic model over site_id, banner_pos and price.
std::vector<Row> AvazuLike(int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> weight(0.0, 1.5);
  std::vector<double> site_weight(120);
  std::mt19937 planted(7);  // the same sites weigh the same in train and test
  for (double& w : site_weight) w = weight(planted);
  std::vector<Row> out;
  for (int r = 0; r < rows; ++r) {
    const int site = static_cast<int>(rng() % site_weight.size()), banner = static_cast<int>(rng() % 3);
    const double price = static_cast<double>(rng() % 100);
    const double logit = site_weight[site] + (banner == 1 ? 1.0 : 0.0) + (price > 50 ? 0.7 : -0.3) - 1.0;
    const bool click = std::uniform_real_distribution<double>(0, 1)(rng) < 1 / (1 + std::exp(-logit));
    char site_id[16];
    std::snprintf(site_id, sizeof(site_id), "%08x", site * 2654435761u);
    out.push_back({std::to_string(seed) + std::to_string(1000000 + r), click ? "1" : "0",
                   std::to_string(14102100 + r % 24), std::to_string(1005 + r % 3), std::to_string(banner), site_id,
                   std::to_string(r % 2), std::to_string(static_cast<int>(price))});
  }
  return out;
}

std::string Labeled(const std::vector<Row>& rows) {
  std::string text = "id,click,hour,C1,banner_pos,site_id,device_type,price\n";
  for (const Row& r : rows) {
    text += r.id + "," + r.click + "," + r.hour + "," + r.c1 + "," + r.banner_pos + "," + r.site_id + "," +
            r.device_type + "," + r.price + "\n";
  }
  return text;
}

// Another order, no label, no id: what a file to score may look like.
std::string Unlabeled(const std::vector<Row>& rows) {
  std::string text = "price,site_id,device_type,banner_pos,C1,hour\n";
  for (const Row& r : rows) {
    text += r.price + "," + r.site_id + "," + r.device_type + "," + r.banner_pos + "," + r.c1 + "," + r.hour + "\n";
  }
  return text;
}

TEST(CsvDataTest, AvazuLayoutTrainsAndScoresByColumnName) {
  testing::ScratchDir dir;
  const std::string train = dir.Write("train.csv", Labeled(AvazuLike(30000, 1)));
  const std::vector<Row> test_rows = AvazuLike(4000, 2);
  const std::string test = dir.Write("test.csv", Labeled(test_rows));
  auto run = testing::RunBinary(
      "embedps",
      {"local", "--model=lr", "--train=" + train, "--test=" + test, "--numeric_columns=price", "--servers=1",
       "--workers=2", "--run_dir=" + dir.File("run"), "--summary_json=" + dir.File("summary.json")},
      dir.File("local.log"), std::chrono::seconds(120));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("csv data: comma-separated with a header; label click; 5 categorical (hour, C1, "
                            "banner_pos, site_id, device_type); 1 numeric (price); not used: id"),
            std::string::npos)
      << "what detection chose is said: " << run.output;
  const auto summary = nlohmann::json::parse(testing::ReadFile(dir.File("summary.json")));
  EXPECT_EQ(summary["format"], "csv");
  EXPECT_EQ(summary["rows"], 30000);
  EXPECT_EQ(summary["bad_lines"], 0) << "the header of each file is not a bad line";
  EXPECT_GT(summary["test_auc"].get<double>(), 0.75) << "the planted clicks are learned";

  const std::string model = dir.File("run/model");
  const std::string unlabeled = dir.Write("score.csv", Unlabeled(test_rows));
  for (const auto& [input, out] : {std::pair{test, dir.File("labeled.scores")}, std::pair{unlabeled, dir.File("unlabeled.scores")}}) {
    auto predict = testing::RunBinary("embedps", {"predict", "--model_dir=" + model, "--input=" + input, "--out=" + out},
                                      out + ".log", std::chrono::seconds(30));
    ASSERT_EQ(predict.exit_code, 0) << predict.output;
  }
  const std::string scores = testing::ReadFile(dir.File("unlabeled.scores"));
  EXPECT_EQ(std::count(scores.begin(), scores.end(), '\n'), 4000);
  EXPECT_EQ(scores, testing::ReadFile(dir.File("labeled.scores")));

  // DeepFM: the numeric column feeds the MLP, each categorical one a field.
  run = testing::RunBinary("embedps",
                           {"local", "--model=deepfm", "--train=" + train, "--test=" + test, "--numeric_columns=price",
                            "--factors=4", "--hidden=16", "--servers=1", "--workers=1", "--run_dir=" + dir.File("deepfm")},
                           dir.File("deepfm.log"), std::chrono::seconds(120));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto info = nlohmann::json::parse(testing::ReadFile(dir.File("deepfm/model/model.json")));
  EXPECT_EQ(info["spec"]["first_field"], 1);
  EXPECT_EQ(info["spec"]["fields"], 5);
  EXPECT_EQ(info["spec"]["dense_features"], 1);
  EXPECT_EQ(info["csv"]["categorical"].size(), 5u);

  // A column the flags name that the header lacks is refused before the
  // cluster starts.
  run = testing::RunBinary("embedps",
                           {"local", "--model=lr", "--train=" + train, "--test=" + test, "--numeric_columns=cost",
                            "--run_dir=" + dir.File("bad")},
                           dir.File("bad.log"), std::chrono::seconds(30));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find(train + ": --numeric_columns: column 'cost' is not in the header"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace embedps
