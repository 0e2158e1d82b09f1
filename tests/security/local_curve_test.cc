// The CLI side of CURVE: `embedps keygen` writes a key directory (secrets
// readable by the owner only) and will not overwrite it; `embedps local
// --curve` trains with CURVE on in every child, and without --curve says
// that the cluster's traffic is unencrypted.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "common/security/curve_keys.h"
#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(KeygenTest, WritesKeysOnceAndAddsNodes) {
  testing::ScratchDir dir;
  const std::string keys = dir.File("keys");
  auto run = testing::RunBinary("embedps", {"keygen", "--out=" + keys, "--nodes=3"},
                                dir.File("keygen.log"), std::chrono::seconds(20));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(ModeOf(keys + "/cluster.secret"), 0600u);
  EXPECT_EQ(ModeOf(keys + "/node-2.secret"), 0600u);
  EXPECT_EQ(ModeOf(keys + "/cluster.pub"), 0644u);
  auto allowed = security::AllowList::ReadFile(keys + "/allowed_keys");
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->size(), 3u);
  EXPECT_TRUE(security::LoadCurveConfig(keys, "node-1", /*binds=*/true).ok());

  run = testing::RunBinary("embedps", {"keygen", "--out=" + keys}, dir.File("again.log"),
                           std::chrono::seconds(20));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("already holds cluster keys"), std::string::npos) << run.output;

  // An added key names its role.
  run = testing::RunBinary("embedps", {"keygen", "--out=" + keys, "--add=late-worker"},
                           dir.File("add0.log"), std::chrono::seconds(20));
  EXPECT_EQ(run.exit_code, 2) << "a usage error";
  EXPECT_NE(run.output.find("--add needs --role"), std::string::npos) << run.output;
  run = testing::RunBinary("embedps", {"keygen", "--out=" + keys, "--add=late-worker", "--role=worker"},
                           dir.File("add.log"), std::chrono::seconds(20));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  allowed = security::AllowList::ReadFile(keys + "/allowed_keys");
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->size(), 4u);
  EXPECT_EQ(allowed->FindName("late-worker")->role, security::KeyRole::kWorker);
  EXPECT_EQ(allowed->FindName("node-0")->role, security::KeyRole::kAny);  // --nodes: any role
  EXPECT_TRUE(security::LoadCurveConfig(keys, "late-worker", /*binds=*/false).ok());
}

TEST(KeygenTest, KeysAreBoundToTheirRoleByDefault) {
  testing::ScratchDir dir;
  const std::string keys = dir.File("keys");
  auto run = testing::RunBinary("embedps", {"keygen", "--out=" + keys, "--servers=2", "--workers=3"},
                                dir.File("keygen.log"), std::chrono::seconds(20));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto allowed = security::AllowList::ReadFile(keys + "/allowed_keys");
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->size(), 5u);
  for (const char* name : {"server-0", "server-1"}) {
    ASSERT_NE(allowed->FindName(name), nullptr) << name;
    EXPECT_EQ(allowed->FindName(name)->role, security::KeyRole::kServer) << name;
  }
  for (const char* name : {"worker-0", "worker-1", "worker-2"}) {
    ASSERT_NE(allowed->FindName(name), nullptr) << name;
    EXPECT_EQ(allowed->FindName(name)->role, security::KeyRole::kWorker) << name;
  }
  EXPECT_NE(testing::ReadFile(keys + "/allowed_keys").find(" worker\n"), std::string::npos);
}

class LocalCurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::GenerateCriteoFile(dir_, "train.tsv", 5000, 3);
    testing::GenerateCriteoFile(dir_, "test.tsv", 1000, 4);
  }

  testing::RunResult RunLocal(const std::vector<std::string>& extra, const std::string& run_dir) {
    std::vector<std::string> args = {"local", "--train=" + train_, "--test=" + test_,
                                     "--servers=2", "--workers=2", "--run_dir=" + run_dir};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::RunBinary("embedps", args, run_dir + ".out", std::chrono::seconds(120));
  }

  testing::ScratchDir dir_;
  std::string train_ = dir_.File("train.tsv");
  std::string test_ = dir_.File("test.tsv");
};

TEST_F(LocalCurveTest, CurveFlagEncryptsEveryChild) {
  const std::string run_dir = dir_.File("run");
  auto run = RunLocal({"--curve"}, run_dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("CURVE is on"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("test AUC"), std::string::npos) << run.output;
  EXPECT_NE(testing::ReadFile(run_dir + "/logs/scheduler.log").find("CURVE on, 4 keys allowed"),
            std::string::npos);
  for (const char* server : {"server-0", "server-1"}) {
    const std::string log = testing::ReadFile(run_dir + "/logs/" + server + ".log");
    EXPECT_NE(log.find("CURVE on"), std::string::npos) << server;
  }
  const std::string sched = testing::ReadFile(run_dir + "/logs/scheduler.log");
  for (const char* key : {"CURVE key server-0", "CURVE key server-1", "CURVE key worker-0",
                          "CURVE key worker-1"}) {
    EXPECT_NE(sched.find(key), std::string::npos) << key << "\n" << sched;
  }
}

TEST_F(LocalCurveTest, WithoutCurveItSaysTrafficIsUnencrypted) {
  auto run = RunLocal({}, dir_.File("plain"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("CURVE is off: cluster traffic on loopback is unencrypted"),
            std::string::npos)
      << run.output;
}

}  // namespace
}  // namespace embedps
