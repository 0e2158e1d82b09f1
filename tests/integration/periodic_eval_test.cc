// End to end: with --eval_every_rows, `embedps local` evaluates on the test
// set during training (one worker scoring against the servers' rows) and
// once after training; the evaluations show in the progress lines and the
// summary's "evals", and the final one is the export's test metric.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

TEST(PeriodicEvalTest, EvaluatesDuringTrainingAndAtTheEnd) {
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 120000, 21);
  const std::string test = testing::GenerateCriteoFile(dir, "test.tsv", 10000, 22);
  const std::string summary_path = dir.File("summary.json");
  auto run = testing::RunBinary(
      "embedps",
      {"local", "--model=lr", "--train=" + train, "--test=" + test, "--servers=2", "--workers=2",
       "--eval_every_rows=30000", "--eval_rows=4000", "--http_port=-1", "--summary_json=" + summary_path,
       "--run_dir=" + dir.File("run")},
      dir.File("local.log"), std::chrono::seconds(240));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("eval: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("eval (final): "), std::string::npos) << run.output;

  auto summary = nlohmann::json::parse(testing::ReadFile(summary_path));
  ASSERT_TRUE(summary.contains("evals")) << summary.dump(2);
  const auto& evals = summary["evals"];
  ASSERT_GE(evals.size(), 3u) << evals.dump(2);  // at least two during training, then the final one
  uint64_t last_rows = 0;
  for (size_t i = 0; i < evals.size(); ++i) {
    const auto& e = evals[i];
    const bool final = i + 1 == evals.size();
    EXPECT_EQ(e["final"].get<bool>(), final) << e.dump();
    EXPECT_EQ(e["test_rows"].get<uint64_t>(), final ? 10000u : 4000u) << e.dump();
    const double auc = e["test_auc"].get<double>(), logloss = e["test_logloss"].get<double>();
    EXPECT_TRUE(std::isfinite(auc) && auc > 0.6 && auc < 1.0) << e.dump();
    EXPECT_TRUE(std::isfinite(logloss) && logloss > 0.3 && logloss < 0.6) << e.dump();
    EXPECT_GE(e["rows"].get<uint64_t>(), last_rows) << e.dump();
    last_rows = e["rows"].get<uint64_t>();
  }
  // The final evaluation ran against the servers after every push landed:
  // the same rows the export holds, scored by the same model code.
  const auto& last = evals.back();
  EXPECT_EQ(last["rows"].get<uint64_t>(), 120000u);
  EXPECT_NEAR(last["test_auc"].get<double>(), summary["test_auc"].get<double>(), 1e-6);
  EXPECT_NEAR(last["test_logloss"].get<double>(), summary["test_logloss"].get<double>(), 1e-6);
  // The first one ran while training went on.
  EXPECT_LT(evals[0]["rows"].get<uint64_t>(), 120000u);
}

// With --validation the periodic evaluations (and the scheduler's final one)
// score the validation file, and only the launcher's evaluation of the
// export scores --test: what was watched during training is not what is
// reported. --validation without periodic evaluation is a usage error.
TEST(PeriodicEvalTest, ValidationIsWhatThePeriodicEvaluationScores) {
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 40000, 31);
  const std::string validation = testing::GenerateCriteoFile(dir, "validation.tsv", 1500, 32);
  const std::string test = testing::GenerateCriteoFile(dir, "test.tsv", 3000, 33);
  const std::vector<std::string> job = {"local", "--model=lr", "--train=" + train, "--test=" + test,
                                        "--servers=1", "--workers=1", "--http_port=-1"};
  auto args = job;
  args.insert(args.end(), {"--validation=" + validation, "--eval_every_rows=10000",
                           "--summary_json=" + dir.File("summary.json"), "--run_dir=" + dir.File("run")});
  auto run = testing::RunBinary("embedps", args, dir.File("local.log"), std::chrono::seconds(120));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto summary = nlohmann::json::parse(testing::ReadFile(dir.File("summary.json")));
  ASSERT_GE(summary["evals"].size(), 2u) << summary.dump(2);
  for (const auto& e : summary["evals"]) EXPECT_EQ(e["test_rows"], 1500) << e.dump();
  EXPECT_EQ(summary["test_rows"], 3000);

  args = job;
  args.insert(args.end(), {"--validation=" + validation, "--run_dir=" + dir.File("run2")});
  run = testing::RunBinary("embedps", args, dir.File("bad.log"), std::chrono::seconds(30));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--validation works with the periodic evaluation: give --eval_every_s or --eval_every_rows"), std::string::npos) << run.output;
}

// --keep_best exports the model of the best evaluation on --validation
// when the final one is worse. The validation file here has the test rows'
// labels flipped, so the better the model learns the training data the
// worse it scores there: the first evaluation is the best, and the kept
// model scores better on that file than the final one does.
TEST(PeriodicEvalTest, KeepBestExportsTheBestEvaluationsModel) {
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 60000, 41);
  std::istringstream rows(testing::ReadFile(testing::GenerateCriteoFile(dir, "test.tsv", 3000, 42)));
  std::string flipped, line;
  while (std::getline(rows, line)) flipped += (line[0] == '1' ? "0" : "1") + line.substr(1) + "\n";
  const std::string validation = dir.Write("flipped.tsv", flipped);
  auto run_job = [&](const std::string& name, bool keep_best) {
    std::vector<std::string> args = {"local", "--model=lr", "--train=" + train, "--test=" + validation,
                                     "--validation=" + validation, "--eval_every_rows=8000", "--servers=2",
                                     "--workers=1", "--http_port=-1", "--summary_json=" + dir.File(name + ".json"),
                                     "--run_dir=" + dir.File(name)};
    if (keep_best) args.push_back("--keep_best");
    auto run = testing::RunBinary("embedps", args, dir.File(name + ".log"), std::chrono::seconds(120));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return std::make_pair(run.output, nlohmann::json::parse(testing::ReadFile(dir.File(name + ".json"))));
  };
  const auto [kept_output, kept] = run_job("kept", true);
  const auto [last_output, last] = run_job("last", false);
  ASSERT_TRUE(kept.contains("keep_best")) << kept.dump(2);
  EXPECT_EQ(kept["keep_best"]["kept"], "best") << kept["keep_best"].dump(2);
  const uint64_t best_rows = kept["keep_best"]["best_eval"]["rows"].get<uint64_t>();
  EXPECT_LT(best_rows, 60000u);
  EXPECT_NE(kept_output.find("kept the model of the evaluation after " + std::to_string(best_rows) + " rows"),
            std::string::npos)
      << kept_output;
  // The export is the best snapshot: it scores as that evaluation did, and
  // better than the final model on the file it was chosen by.
  EXPECT_GT(kept["test_auc"].get<double>(), last["test_auc"].get<double>() + 0.005)
      << kept.dump(2) << last.dump(2);
  EXPECT_LT(last["test_auc"].get<double>(), 0.5) << "the flipped labels read backwards";
  EXPECT_FALSE(last.contains("keep_best"));
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("kept/model"))) {
    EXPECT_EQ(entry.path().filename().string().rfind("best-", 0), std::string::npos) << "snapshots are removed";
  }

  // Choosing on --test would overstate the result: --keep_best needs a
  // validation file of its own.
  auto run = testing::RunBinary("embedps",
                                {"local", "--model=lr", "--train=" + train, "--test=" + validation,
                                 "--eval_every_rows=8000", "--keep_best", "--run_dir=" + dir.File("bad")},
                                dir.File("bad.log"), std::chrono::seconds(30));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--keep_best chooses by --validation"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace embedps
