// The daemon flags one job description turns into (launch/job_settings.h).
// The expected lists are what `embedps local` and `embedps ssh` passed
// before the settings were shared (checked against the old binaries), but
// for doubles, now written exactly (0.02, not 0.020000).
#include "launch/job_settings.h"

#include <gflags/gflags.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace embedps::launch {
namespace {

using Flags = std::vector<std::string>;

// A deepfm job with every setting away from its default.
JobSettings Representative() {
  JobSettings job;
  job.data = {"/data/train.tsv", "/data/test.tsv", "criteo", 0.02};
  job.training.passes = 3;
  job.training.batch_size = 256;
  job.training.prefetch = 2;
  job.training.dense_pull_every = 3;
  job.training.dense_push_every = 4;
  job.training.max_staleness = 5;
  job.optimizers = {"adagrad", 0.1, 0.03, "sgd", 0.01};
  job.eval = {0, 1000, 50};
  job.checkpoints = {"/ckpt", 45u, "auto"};
  job.model_dir = "/model";
  job.replicas = 2;
  job.progress_interval_s = 0.25;
  job.model_flags = {"--model=deepfm", "--factors=4", "--hidden=8"};
  return job;
}

// The model the model flags of Representative() describe.
JobModel DeepFm() {
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("model", "deepfm");
  gflags::SetCommandLineOption("factors", "4");
  gflags::SetCommandLineOption("hidden", "8");
  auto model = BuildJobModel(data::Format::kCriteo);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

constexpr char kDeepFmInfo[] =
    "--model_info={\"data_format\":\"criteo\",\"format\":\"embedps-model\",\"spec\":{\"bias_l2\":0.0,"
    "\"dense_features\":13,\"dense_scale\":0.10000000149011612,\"factors\":4,\"fields\":26,\"first_field\":13,"
    "\"hidden\":[8],\"init_scale\":0.009999999776482582,\"item_fields\":[1],\"l2\":0.0,\"max_rating\":5.0,"
    "\"min_rating\":1.0,\"model\":\"deepfm\",\"negatives\":4,\"objective\":\"binary\"},\"tables\":[{\"dim\":5,"
    "\"id\":0,\"init_scale\":0.009999999776482582,\"initializer\":\"normal\",\"name\":\"factors\",\"seed\":1},"
    "{\"dim\":8,\"id\":1,\"init_scale\":0.21908903121948242,\"initializer\":\"uniform\",\"name\":\"mlp_w0\","
    "\"seed\":1},{\"dim\":8,\"id\":2,\"init_scale\":0.0,\"initializer\":\"zeros\",\"name\":\"mlp_b0\",\"seed\":1},"
    "{\"dim\":1,\"id\":3,\"init_scale\":0.8164966106414795,\"initializer\":\"uniform\",\"name\":\"mlp_w1\","
    "\"seed\":1},{\"dim\":1,\"id\":4,\"init_scale\":0.0,\"initializer\":\"zeros\",\"name\":\"mlp_b1\",\"seed\":1}],"
    "\"training\":{},\"version\":1}";

TEST(JobSettingsTest, SchedulerFlags) {
  const Flags expected = {"--train=/data/train.tsv",
                          "--passes=3",
                          "--max_bad_line_fraction=0.02",
                          "--progress_interval_ms=250",
                          "--model_dir=/model",
                          "--checkpoint_dir=/ckpt",
                          "--checkpoint_interval_s=45",
                          "--resume=auto",
                          "--replicas=2",
                          "--eval_every_s=0",
                          "--eval_every_rows=1000",
                          "--eval_rows=50",
                          kDeepFmInfo,
                          // What /status and the dashboard show of the job.
                          "--job_config={\"batch_size\":256,\"dense_learning_rate\":0.01,\"dense_optimizer\":"
                          "\"sgd\",\"format\":\"criteo\",\"keep_best\":false,\"learning_rate\":0.1,\"max_staleness\":5,"
                          "\"optimizer\":\"adagrad\",\"passes\":3,\"replicas\":2,\"test\":\"/data/test.tsv\","
                          "\"train\":\"/data/train.tsv\",\"validation\":\"\"}"};
  EXPECT_EQ(JobDaemonFlags(Representative(), DeepFm(), Role::kScheduler), expected);
}

TEST(JobSettingsTest, ServerFlagsDeclareTheModelsTables) {
  // Sparse tables take --optimizer and its rates, dense ones --dense_optimizer.
  const Flags expected = {
      "--tables=name=factors dim=5 init=normal init_scale=0.00999999978 seed=1 optimizer=adagrad lr=0.1 "
      "factor_lr=0.03; name=mlp_w0 dim=8 init=uniform init_scale=0.219089031 seed=1 optimizer=sgd lr=0.01; "
      "name=mlp_b0 dim=8 init=zeros init_scale=0 seed=1 optimizer=sgd lr=0.01; name=mlp_w1 dim=1 init=uniform "
      "init_scale=0.816496611 seed=1 optimizer=sgd lr=0.01; name=mlp_b1 dim=1 init=zeros init_scale=0 seed=1 "
      "optimizer=sgd lr=0.01"};
  EXPECT_EQ(JobDaemonFlags(Representative(), DeepFm(), Role::kServer), expected);
}

TEST(JobSettingsTest, WallClockExpiryReachesTheSparseTablesOnly) {
  JobSettings job = Representative();
  job.optimizers.evict_after_seconds = 86400;
  const Flags server = JobDaemonFlags(job, DeepFm(), Role::kServer);
  ASSERT_EQ(server.size(), 1u);
  // Once, on the factors table; the MLP's tables are read every batch.
  const std::string& tables = server[0];
  const size_t at = tables.find(" evict_after_seconds=86400");
  ASSERT_NE(at, std::string::npos) << tables;
  EXPECT_LT(at, tables.find("name=mlp_w0"));
  EXPECT_EQ(tables.find("evict_after_seconds", at + 2), std::string::npos) << tables;
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("train", "/data/train.tsv");
  gflags::SetCommandLineOption("evict_after_s", "-1");
  auto refused = JobSettingsFromFlags();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("evict_after_s"), std::string::npos);
  gflags::SetCommandLineOption("evict_after_s", "3600");
  auto job_from_flags = JobSettingsFromFlags();
  ASSERT_TRUE(job_from_flags.ok()) << job_from_flags.status().ToString();
  EXPECT_EQ(job_from_flags->optimizers.evict_after_seconds, 3600);
}

TEST(JobSettingsTest, WorkerFlags) {
  const Flags expected = {"--batch_size=256",      "--prefetch=2",       "--max_staleness=5",
                          "--dense_pull_every=3",  "--dense_push_every=4", "--format=criteo",
                          "--eval_test=/data/test.tsv", "--model=deepfm", "--factors=4",
                          "--hidden=8"};
  EXPECT_EQ(JobDaemonFlags(Representative(), DeepFm(), Role::kWorker), expected);
}

// Settings at their defaults add nothing a daemon would not assume anyway:
// no checkpoints, evaluation or replicas, and the scheduler's own
// checkpoint interval.
TEST(JobSettingsTest, DefaultsLeaveOptionalFlagsOut) {
  JobSettings job;
  job.data.train = "/data/train.tsv";
  job.checkpoints.dir = "/ckpt";
  const JobModel model = DeepFm();
  const Flags sched = JobDaemonFlags(job, model, Role::kScheduler);
  EXPECT_EQ(sched, (Flags{"--train=/data/train.tsv", "--passes=1", "--max_bad_line_fraction=0.01",
                          "--checkpoint_dir=/ckpt", kDeepFmInfo,
                          "--job_config={\"batch_size\":1000,\"dense_learning_rate\":0.001,\"dense_optimizer\":"
                          "\"adam\",\"format\":\"criteo\",\"keep_best\":false,\"learning_rate\":0.05,\"max_staleness\":-1,"
                          "\"optimizer\":\"adagrad\",\"passes\":1,\"replicas\":1,\"test\":\"\","
                          "\"train\":\"/data/train.tsv\",\"validation\":\"\"}"}));
  EXPECT_EQ(JobDaemonFlags(job, model, Role::kWorker),
            (Flags{"--batch_size=1000", "--prefetch=1", "--max_staleness=-1", "--dense_pull_every=1",
                   "--dense_push_every=1", "--format=criteo"}));
}

TEST(JobSettingsTest, DoublesReachTheDaemonsExactly) {
  JobSettings job;
  job.data.max_bad_line_fraction = 1e-7;
  job.eval.every_s = 2.5;
  const Flags sched = JobDaemonFlags(job, DeepFm(), Role::kScheduler);
  EXPECT_EQ(sched[1], "--max_bad_line_fraction=1e-07");
  EXPECT_EQ(sched[2], "--eval_every_s=2.5");
}

TEST(JobSettingsTest, FromFlagsAppliesTheDeepFmDefaultsAndExplicitFlagsWin) {
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("model", "deepfm");
  gflags::SetCommandLineOption("dense_push_every", "3");
  gflags::SetCommandLineOption("train", "/data/train.tsv");
  auto job = JobSettingsFromFlags();
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->data.train, "/data/train.tsv");
  EXPECT_EQ(job->training.batch_size, 500u);
  EXPECT_EQ(job->training.prefetch, 0u);
  EXPECT_EQ(job->training.dense_pull_every, 4u);
  EXPECT_EQ(job->training.dense_push_every, 3u);
  EXPECT_DOUBLE_EQ(job->optimizers.factor_learning_rate, 0.02);
  // Left unset: each launcher's own default.
  EXPECT_FALSE(job->checkpoints.interval_s.has_value());
  EXPECT_EQ(job->model_flags, (Flags{"--model=deepfm"}));
}

TEST(JobSettingsTest, FromFlagsNamesTheFlagOutOfRange) {
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("dense_push_every", "0");
  auto job = JobSettingsFromFlags();
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(job.status().message(), "--dense_push_every must be in 1..1048576, got 0");
}

TEST(JobSettingsTest, ValidateAndEvalChecksNameTheFlag) {
  JobSettings job;
  job.optimizers.learning_rate = 0;
  EXPECT_EQ(ValidateJobSettings(job).message(), "--learning_rate must be > 0");
  job = JobSettings();
  job.optimizers.dense_optimizer = "nosuch";
  EXPECT_NE(ValidateJobSettings(job).message().find("--dense_optimizer"), std::string::npos)
      << ValidateJobSettings(job).message();
  job = JobSettings();
  job.eval.every_rows = 10;
  worker::ModelSpec spec;
  EXPECT_EQ(CheckEvalSettings(job, spec).message(), "--eval_every_s/--eval_every_rows need --validation or --test");
  spec.model = "ncf";
  EXPECT_NE(CheckEvalSettings(job, spec).message().find("does not support --model ncf"), std::string::npos);
}

TEST(JobSettingsTest, Roles) {
  for (Role r : {Role::kScheduler, Role::kServer, Role::kWorker}) {
    auto parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_EQ(ParseRole("bogus").status().message(), "--role must be scheduler, server or worker, got 'bogus'");
}

}  // namespace
}  // namespace embedps::launch
