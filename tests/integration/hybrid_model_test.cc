// A hybrid model carries the side files it was trained with (#10 item 1):
// eval and predict score it as trained with no side flags, the copy goes
// along with `embedps export`, and a model that cannot be scored as trained
// (its copy gone, or exported before models carried them) is refused with
// the reason instead of scored without its features. The side file is
// known by content: a gzip MovieLens-1M users file under another name.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

// Ratings that depend on the user's gender, which only the side file says.
std::string Ratings(int first_row, int rows) {
  std::string text;
  for (int r = first_row; r < first_row + rows; ++r) {
    const int user = 1 + r % 150, item = 1 + (r * 7) % 40;
    const bool male = user % 2 == 1;
    const int rating = 3 + ((item % 2 == 1) == male ? 1 : -1);
    text += std::to_string(user) + "::" + std::to_string(item) + "::" + std::to_string(rating) + "::" +
            std::to_string(978300000 + r) + "\n";
  }
  return text;
}

std::string Users() {
  std::string text;
  for (int user = 1; user <= 150; ++user) {
    text += std::to_string(user) + "::" + (user % 2 == 1 ? "M" : "F") + "::25::" + std::to_string(user % 20) +
            "::" + std::to_string(10000 + user) + "\n";
  }
  return text;
}

class HybridModelTest : public ::testing::Test {
 protected:
  testing::RunResult Embedps(const std::string& log, std::vector<std::string> args) {
    return testing::RunBinary("embedps", args, dir_.File(log), std::chrono::seconds(60));
  }
  testing::ScratchDir dir_;
};

TEST_F(HybridModelTest, ModelCarriesItsSideFilesAndIsRefusedWithoutThem) {
  const std::string train = dir_.Write("ratings.dat", Ratings(0, 6000));
  const std::string test = dir_.Write("test.dat", Ratings(6000, 600));
  const std::string users = dir_.WriteGzip("ml1m_users.dat.gz", Users());
  auto run = Embedps("local.log", {"local", "--model=hybrid", "--user_features=" + users, "--train=" + train,
                                   "--test=" + test, "--servers=1", "--workers=1", "--passes=3",
                                   "--run_dir=" + dir_.File("run"), "--summary_json=" + dir_.File("summary.json")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("user features: 150 users from " + users +
                            ", MovieLens 1M users.dat (gender, age code, occupation, zip prefix): 4 fields"),
            std::string::npos)
      << "what was loaded is logged: " << run.output;
  const std::string model = dir_.File("run/model");
  const auto info = nlohmann::json::parse(testing::ReadFile(model + "/model.json"));
  ASSERT_EQ(info["side_files"].size(), 1u) << info.dump();
  EXPECT_EQ(info["side_files"][0]["side"], "user");
  EXPECT_EQ(info["side_files"][0]["spec"], "sep=:: id=0 cat:1 cat:2 cat:3 prefix:4:3");
  EXPECT_TRUE(std::filesystem::exists(model + "/user_features"));

  // Scored as trained: with no side flags, the model's copy gives the same
  // figures and scores as the file given again.
  auto own = Embedps("eval-own.log", {"eval", "--model_dir=" + model, "--test=" + test});
  ASSERT_EQ(own.exit_code, 0) << own.output;
  auto given = Embedps("eval-given.log", {"eval", "--model_dir=" + model, "--test=" + test, "--user_features=" + users});
  ASSERT_EQ(given.exit_code, 0) << given.output;
  const auto summary = nlohmann::json::parse(testing::ReadFile(dir_.File("summary.json")));
  const std::string rmse_line = "embedps: test RMSE ";
  ASSERT_NE(own.output.find(rmse_line), std::string::npos) << own.output;
  const auto line_of = [&](const std::string& out) { return out.substr(out.find(rmse_line), 40); };
  EXPECT_EQ(line_of(own.output), line_of(given.output));
  EXPECT_LT(summary["test_rmse"].get<double>(), 0.8) << "the gender effect is learned through the side file";
  auto predict_own = Embedps("predict-own.log", {"predict", "--model_dir=" + model, "--input=" + test,
                                                 "--out=" + dir_.File("own.scores")});
  ASSERT_EQ(predict_own.exit_code, 0) << predict_own.output;
  auto predict_given = Embedps("predict-given.log", {"predict", "--model_dir=" + model, "--input=" + test,
                                                     "--out=" + dir_.File("given.scores"), "--user_features=" + users});
  ASSERT_EQ(predict_given.exit_code, 0) << predict_given.output;
  EXPECT_EQ(testing::ReadFile(dir_.File("own.scores")), testing::ReadFile(dir_.File("given.scores")));

  // The export takes the copy along.
  auto exported = Embedps("export.log", {"export", "--from=" + dir_.File("run"), "--out=" + dir_.File("exported")});
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  auto eval_exported = Embedps("eval-exported.log", {"eval", "--model_dir=" + dir_.File("exported"), "--test=" + test});
  ASSERT_EQ(eval_exported.exit_code, 0) << eval_exported.output;
  EXPECT_EQ(line_of(eval_exported.output), line_of(own.output));

  // Without its copy, or exported before models carried one: refused.
  std::filesystem::remove(dir_.File("exported/user_features"));
  auto gone = Embedps("eval-gone.log", {"eval", "--model_dir=" + dir_.File("exported"), "--test=" + test});
  EXPECT_EQ(gone.exit_code, 1) << gone.output;
  EXPECT_NE(gone.output.find("its user features (user_features) cannot be read"), std::string::npos) << gone.output;
  EXPECT_NE(gone.output.find("give --user_features " + users), std::string::npos) << gone.output;
  auto old_info = info;
  old_info.erase("side_files");
  std::ofstream(dir_.File("exported/model.json")) << old_info.dump(2);
  for (const char* command : {"eval", "predict", "recommend"}) {
    std::vector<std::string> args = {command, "--model_dir=" + dir_.File("exported")};
    if (std::string(command) == "eval") args.push_back("--test=" + test);
    if (std::string(command) == "predict") args.push_back("--input=" + test);
    if (std::string(command) == "recommend") args.push_back("--user=3");
    auto old = Embedps(std::string(command) + "-old.log", args);
    EXPECT_EQ(old.exit_code, 1) << command << ": " << old.output;
    EXPECT_NE(old.output.find("trained with side features that its directory does not hold"), std::string::npos)
        << command << ": " << old.output;
  }
  // A side file of the wrong side is told apart by content: a flag's bad
  // value, a usage error.
  auto wrong = Embedps("wrong.log", {"eval", "--model_dir=" + model, "--test=" + test, "--item_features=" + users});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("looks like a user file (MovieLens 1M users.dat"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("not an item file"), std::string::npos) << wrong.output;
}

}  // namespace
}  // namespace embedps
