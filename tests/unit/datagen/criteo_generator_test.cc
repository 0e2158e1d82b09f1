#include "datagen/criteo_generator.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/eval_metrics.h"
#include "tests/support/in_process_trainer.h"
#include "tests/support/reference_lr.h"
#include "worker/data/criteo_parser.h"
#include "worker/model/factor_models.h"
#include "worker/model/linear_model.h"

namespace embedps::datagen {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, '\t')) out.push_back(f);
  if (!line.empty() && line.back() == '\t') out.push_back("");
  return out;
}

// Generates each distinct (rows, seed) file once for the whole suite.
class CriteoGeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = ::testing::TempDir() + "embedps_gen_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = new std::string(tmpl);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static StatusOr<CriteoGeneratorResult> Generate(const std::string& name, uint64_t rows,
                                                  uint64_t seed) {
    CriteoGeneratorOptions o;
    o.rows = rows;
    o.seed = seed;
    o.out = *dir_ + "/" + name;
    o.progress = false;
    return GenerateCriteo(o);
  }

  static std::string* dir_;
};
std::string* CriteoGeneratorTest::dir_ = nullptr;

TEST_F(CriteoGeneratorTest, EveryLineParsesAndLooksLikeCriteo) {
  auto res = Generate("a.txt", 20000, 1);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  const std::string content = ReadFile(*dir_ + "/a.txt");
  std::istringstream lines(content);
  std::string line;
  uint64_t n = 0, positives = 0, empty_cats = 0, empty_ints = 0, negative_ints = 0;
  while (std::getline(lines, line)) {
    data::Example ex;
    Status st = data::ParseCriteoLine(line, &ex);
    ASSERT_TRUE(st.ok()) << "line " << n + 1 << ": " << st.message() << "\n" << line;
    const auto fields = SplitTabs(line);
    ASSERT_EQ(fields.size(), 40u);
    for (int j = 14; j < 40; ++j) {
      if (fields[j].empty()) {
        ++empty_cats;
        continue;
      }
      ASSERT_EQ(fields[j].size(), 8u) << fields[j];
      ASSERT_EQ(fields[j].find_first_not_of("0123456789abcdef"), std::string::npos) << fields[j];
    }
    for (int i = 1; i <= 13; ++i) {
      empty_ints += fields[i].empty();
      negative_ints += !fields[i].empty() && fields[i][0] == '-';
    }
    positives += ex.label > 0.5f;
    ++n;
  }
  EXPECT_EQ(n, 20000u);
  EXPECT_EQ(res->rows, 20000u);
  EXPECT_DOUBLE_EQ(res->positive_rate, static_cast<double>(positives) / n);
  EXPECT_GT(res->positive_rate, 0.2);
  EXPECT_LT(res->positive_rate, 0.3);
  EXPECT_GT(res->oracle_auc, 0.7);
  EXPECT_LT(res->oracle_auc, 0.95);
  EXPECT_GT(res->oracle_logloss, 0.2);
  EXPECT_LT(res->oracle_logloss, 0.5623);  // below the constant predictor's ~0.562
  // Some fields are sometimes empty and one integer field goes negative.
  EXPECT_GT(empty_cats, 0u);
  EXPECT_GT(empty_ints, 0u);
  EXPECT_GT(negative_ints, 0u);
}

TEST_F(CriteoGeneratorTest, MetaJsonDescribesTheFile) {
  auto res = Generate("meta.txt", 5000, 3);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  const auto meta = nlohmann::json::parse(ReadFile(*dir_ + "/meta.txt.meta.json"));
  EXPECT_EQ(meta.at("format"), "criteo");
  EXPECT_EQ(meta.at("rows"), 5000);
  EXPECT_EQ(meta.at("seed"), 3);
  EXPECT_EQ(meta.at("model_seed"), CriteoGeneratorOptions().model_seed);
  EXPECT_DOUBLE_EQ(meta.at("positive_rate").get<double>(), res->positive_rate);
  EXPECT_DOUBLE_EQ(meta.at("oracle_auc").get<double>(), res->oracle_auc);
  EXPECT_DOUBLE_EQ(meta.at("oracle_logloss").get<double>(), res->oracle_logloss);
}

// An existing file is recognised as the one these options write (so
// `gen-criteo` keeps it), and anything else is refused with the reason.
TEST_F(CriteoGeneratorTest, TellsItsOwnFileFromAnother) {
  CriteoGeneratorOptions o;
  o.rows = 2000;
  o.seed = 4;
  o.out = *dir_ + "/existing.tsv";
  o.progress = false;
  auto none = ExistingCriteo(o);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "nothing there yet";
  auto made = GenerateCriteo(o);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto same = ExistingCriteo(o);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  ASSERT_TRUE(same->has_value());
  EXPECT_DOUBLE_EQ((*same)->oracle_auc, made->oracle_auc);
  EXPECT_EQ((*same)->rows, 2000u);

  CriteoGeneratorOptions other = o;
  other.seed = 5;
  auto refused = ExistingCriteo(other);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("other settings"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("--force"), std::string::npos);

  // A truncated file is not the one its meta.json describes.
  std::filesystem::resize_file(o.out, std::filesystem::file_size(o.out) - 10);
  EXPECT_NE(ExistingCriteo(o).status().message().find("size"), std::string::npos);
  // Nor is a file gen-criteo did not write.
  std::filesystem::remove(o.out + ".meta.json");
  EXPECT_NE(ExistingCriteo(o).status().message().find("not written by gen-criteo"), std::string::npos);
}

TEST_F(CriteoGeneratorTest, SameSeedSameFileOtherSeedSameModel) {
  auto a = Generate("s1.txt", 20000, 1);
  auto b = Generate("s1_again.txt", 20000, 1);
  auto c = Generate("s2.txt", 20000, 2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const std::string fa = ReadFile(*dir_ + "/s1.txt");
  EXPECT_EQ(fa, ReadFile(*dir_ + "/s1_again.txt"));
  const std::string fc = ReadFile(*dir_ + "/s2.txt");
  EXPECT_NE(fa, fc);
  EXPECT_NE(fa.substr(0, fa.find('\n')), fc.substr(0, fc.find('\n')));

  // Same model: the same quality bounds (within sampling noise at 20k rows)
  // and the same vocabulary for the small fields.
  EXPECT_NEAR(a->oracle_auc, c->oracle_auc, 0.03);
  EXPECT_NEAR(a->positive_rate, c->positive_rate, 0.03);
  EXPECT_NEAR(a->oracle_logloss, c->oracle_logloss, 0.03);
  auto tokens_of_c1 = [](const std::string& content) {
    std::set<std::string> tokens;
    std::istringstream lines(content);
    std::string line;
    while (std::getline(lines, line)) tokens.insert(SplitTabs(line)[14]);
    return tokens;
  };
  const auto ta = tokens_of_c1(fa);
  EXPECT_EQ(ta, tokens_of_c1(fc));
  EXPECT_LE(ta.size(), 11u);  // C1 has 10 categories (plus "empty" if any)

  // A different model_seed is a different model: other tokens.
  CriteoGeneratorOptions o;
  o.rows = 2000;
  o.model_seed = 7;
  o.out = *dir_ + "/other_model.txt";
  o.progress = false;
  ASSERT_TRUE(GenerateCriteo(o).ok());
  const auto tother = tokens_of_c1(ReadFile(o.out));
  std::set<std::string> common;
  for (const auto& t : tother) common.insert(ta.count(t) ? t : "");
  EXPECT_LE(common.size(), 2u);
}

TEST_F(CriteoGeneratorTest, LogisticRegressionLearnsButStaysBelowOracle) {
  auto train = Generate("lr_train.txt", 60000, 11);
  auto test = Generate("lr_test.txt", 20000, 12);
  ASSERT_TRUE(train.ok() && test.ok());
  auto lr = testing::TrainReferenceLr(*dir_ + "/lr_train.txt", *dir_ + "/lr_test.txt",
                                      testing::ReferenceLrOptions());
  ASSERT_TRUE(lr.ok()) << lr.status().ToString();
  EXPECT_EQ(lr->train_rows, 60000u);
  // Measured: ~0.74 against an oracle of ~0.81 at this size.
  EXPECT_GT(lr->test_auc, 0.68);
  EXPECT_LT(lr->test_auc, test->oracle_auc - 0.02);
  EXPECT_GT(lr->test_logloss, test->oracle_logloss);
}

std::vector<data::Example> ParseFile(const std::string& path) {
  std::vector<data::Example> out;
  std::istringstream lines(ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    out.emplace_back();
    EXPECT_TRUE(data::ParseCriteoLine(line, &out.back()).ok()) << line;
  }
  return out;
}

double TestAuc(testing::InProcessTrainer& trainer, const std::vector<data::Example>& test) {
  std::vector<float> labels;
  for (const auto& ex : test) labels.push_back(ex.label);
  return RocAuc(trainer.Predict(test), labels);
}

// Model version 2 plants low-rank pairwise interactions: a factorization
// machine must learn them and beat logistic regression trained the same way
// (one pass, Adagrad, same batches), which version 1's random value-pair
// tables never allowed. The parts' oracle AUCs rise as parts are added.
TEST_F(CriteoGeneratorTest, PlantedInteractionsAreLearnableByAFactorizationMachine) {
  auto train = Generate("fm_train.txt", 300000, 21);
  auto test = Generate("fm_test.txt", 30000, 22);
  ASSERT_TRUE(train.ok() && test.ok());
  EXPECT_LT(test->oracle_auc_linear_part, test->oracle_auc_without_deep_part);
  EXPECT_LT(test->oracle_auc_without_deep_part, test->oracle_auc);
  const auto meta = nlohmann::json::parse(ReadFile(*dir_ + "/fm_test.txt.meta.json"));
  for (const char* part : {"linear", "pairwise", "deep"}) {
    EXPECT_GT(meta.at("logit_std").at(part).get<double>(), 0.3) << part;
  }
  const auto train_rows = ParseFile(*dir_ + "/fm_train.txt");
  const auto test_rows = ParseFile(*dir_ + "/fm_test.txt");
  ps::OptimizerConfig opt;
  opt.name = "adagrad";
  opt.learning_rate = 0.05f;
  worker::LinearModel lr(worker::Objective::kBinary, 1, 5);
  auto lr_trainer = testing::InProcessTrainer::Create(&lr, opt);
  ASSERT_TRUE(lr_trainer.ok());
  (*lr_trainer)->TrainEpoch(train_rows, 250);
  opt.factor_learning_rate = 0.02f;
  worker::FmModel fm(worker::FactorModelOptions{});
  auto fm_trainer = testing::InProcessTrainer::Create(&fm, opt);
  ASSERT_TRUE(fm_trainer.ok());
  (*fm_trainer)->TrainEpoch(train_rows, 250);
  const double lr_auc = TestAuc(**lr_trainer, test_rows);
  const double fm_auc = TestAuc(**fm_trainer, test_rows);
  std::printf("300k rows: LR AUC %.4f, FM AUC %.4f, oracle %.4f (linear part %.4f, + pairwise %.4f)\n",
              lr_auc, fm_auc, test->oracle_auc, test->oracle_auc_linear_part,
              test->oracle_auc_without_deep_part);
  EXPECT_GT(fm_auc, lr_auc + 0.005);
  EXPECT_LT(fm_auc, test->oracle_auc);
}

TEST_F(CriteoGeneratorTest, Errors) {
  CriteoGeneratorOptions o;
  o.rows = 10;
  o.progress = false;
  o.out = *dir_ + "/no/such/dir/x.txt";
  auto res = GenerateCriteo(o);
  EXPECT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("no/such/dir"), std::string::npos);
  o.out = *dir_ + "/zero.txt";
  o.rows = 0;
  EXPECT_EQ(GenerateCriteo(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embedps::datagen
