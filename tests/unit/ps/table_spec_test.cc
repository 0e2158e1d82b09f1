// Parsing table declarations: every setting, defaults, ids, and errors that
// name the table and the setting.
#include "ps/table_spec.h"

#include <gtest/gtest.h>

#include "tests/support/test_dirs.h"

namespace embedps::ps {
namespace {

TEST(TableSpecTest, ParsesEverySetting) {
  TableConfig defaults;
  defaults.seed = 5;
  auto tables = ParseTableSpecs(
      "name=user dim=16 optimizer=adam lr=0.001 beta1=0.8 beta2=0.99 epsilon=1e-6 init=normal "
      "init_scale=0.02 fp16=1 clip_norm=5\n"
      "# a comment line\n"
      "name=item dim=8 optimizer=ftrl l1=0.5 l2=0.25 ftrl_beta=2 admit_after=3 "
      "evict_after_steps=1000 evict_after_seconds=86400 memory_budget_mb=64 init=zeros; name=bias optimizer=adagrad factor_lr=0.01",
      defaults);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  ASSERT_EQ(tables->size(), 3u);
  const TableConfig& user = (*tables)[0];
  EXPECT_EQ(user.id, 0u);
  EXPECT_EQ(user.name, "user");
  EXPECT_EQ(user.dim, 16u);
  EXPECT_EQ(user.optimizer.name, "adam");
  EXPECT_FLOAT_EQ(user.optimizer.learning_rate, 0.001f);
  EXPECT_FLOAT_EQ(user.optimizer.beta1, 0.8f);
  EXPECT_FLOAT_EQ(user.optimizer.beta2, 0.99f);
  EXPECT_FLOAT_EQ(user.optimizer.epsilon, 1e-6f);
  EXPECT_EQ(user.init, Initializer::kNormal);
  EXPECT_FLOAT_EQ(user.init_scale, 0.02f);
  EXPECT_TRUE(user.fp16);
  EXPECT_FLOAT_EQ(user.optimizer.clip_norm, 5.0f);
  EXPECT_EQ(user.seed, 5u);
  const TableConfig& item = (*tables)[1];
  EXPECT_EQ(item.id, 1u);
  EXPECT_EQ(item.optimizer.name, "ftrl");
  EXPECT_FLOAT_EQ(item.optimizer.l1, 0.5f);
  EXPECT_FLOAT_EQ(item.optimizer.l2, 0.25f);
  EXPECT_FLOAT_EQ(item.optimizer.ftrl_beta, 2.0f);
  EXPECT_EQ(item.admit_after, 3u);
  EXPECT_EQ(item.evict_after_steps, 1000u);
  EXPECT_EQ(item.evict_after_seconds, 86400u);
  EXPECT_EQ(item.memory_budget_bytes, uint64_t{64} << 20);
  EXPECT_EQ(item.init, Initializer::kZeros);
  EXPECT_FALSE(item.fp16);
  EXPECT_EQ((*tables)[2].name, "bias");
  EXPECT_EQ((*tables)[2].dim, defaults.dim);
  EXPECT_EQ((*tables)[2].id, 2u);
  EXPECT_FLOAT_EQ((*tables)[2].optimizer.factor_learning_rate, 0.01f);
}

TEST(TableSpecTest, ErrorsNameTheTableAndSetting) {
  struct Case {
    const char* spec;
    const char* expect;
  };
  for (const Case& c : {Case{"name=a dim=0", "dim must be in 1..1024"},
                        Case{"name=a dim=2000", "dim must be in 1..1024"},
                        Case{"name=a dim=x", "'x' is not a non-negative integer"},
                        Case{"name=a lr=fast", "'fast' is not a number"},
                        Case{"name=a colour=blue", "unknown setting 'colour'"},
                        Case{"name=a optimizer=lbfgs", "lbfgs"},
                        Case{"name=a init=gaussian", "unknown initializer"},
                        Case{"name=a fp16=maybe", "fp16"},
                        Case{"name=a; name=a", "declared twice"},
                        Case{"name=a justaword", "expected key=value"},
                        Case{"  # only a comment", "no tables declared"}}) {
    auto t = ParseTableSpecs(c.spec, TableConfig{});
    ASSERT_FALSE(t.ok()) << c.spec;
    EXPECT_NE(t.status().message().find(c.expect), std::string::npos)
        << c.spec << " -> " << t.status().message();
  }
}

TEST(TableSpecTest, ReadsFiles) {
  testing::ScratchDir dir;
  const std::string path = dir.Write("tables.conf", "name=emb dim=4\nname=lr dim=1\n");
  auto t = ReadTableSpecFile(path, TableConfig{});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(ReadTableSpecFile(dir.File("missing.conf"), TableConfig{}).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace embedps::ps
