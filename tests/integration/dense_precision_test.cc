// DeepFM with its dense layers in bf16 (float32 accumulation, float32
// master weights on the servers) learns what float32 learns: the same
// generated data, the same job, test AUC within 0.003. The precision that
// ran is in the console line and the summary. One worker, so the two runs
// differ by the precision only, not by the order of asynchronous pushes.
// Skips where the CPU has no bf16 matrix instructions.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/criteo_data.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"
#include "worker/model/dense_matmul.h"

namespace embedps {
namespace {

TEST(DensePrecisionTest, DeepFmInBf16ReachesTheFloat32Auc) {
  if (!worker::CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 matrix instructions (AVX-512 BF16 or AMX)";
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 80000, 51);
  const std::string test = testing::GenerateCriteoFile(dir, "test.tsv", 20000, 52);
  nlohmann::json summary[2];
  const char* precisions[2] = {"fp32", "bf16"};
  for (int i = 0; i < 2; ++i) {
    const std::string p = precisions[i];
    auto run = testing::RunBinary("embedps",
                                  {"local", "--model=deepfm", "--hidden=128,128", "--train=" + train, "--test=" + test,
                                   "--servers=1", "--workers=1", "--http_port=-1", "--dense_precision=" + p,
                                   "--run_dir=" + dir.File(p), "--summary_json=" + dir.File(p + ".json")},
                                  dir.File(p + ".log"), std::chrono::seconds(180));
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("model deepfm (dense layers in " + p + ")"), std::string::npos) << run.output;
    summary[i] = nlohmann::json::parse(testing::ReadFile(dir.File(p + ".json")));
    EXPECT_EQ(summary[i]["dense_precision"], p);
  }
  const double fp32 = summary[0]["test_auc"].get<double>(), bf16 = summary[1]["test_auc"].get<double>();
  std::printf("test AUC: fp32 %.4f, bf16 %.4f\n", fp32, bf16);
  EXPECT_GT(fp32, 0.70) << "the model learned";
  EXPECT_LT(std::fabs(bf16 - fp32), 0.003);
}

}  // namespace
}  // namespace embedps
