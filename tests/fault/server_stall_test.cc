// A server that stalls (SIGSTOP, then SIGCONT: a GC pause, a swap storm, a
// frozen VM) past the node timeout is presumed dead. Issue #9, items 1 and 2:
//   - with nobody to take its place, it serves its rank again when it speaks,
//     with every row it had; the final checkpoint and the export hold every
//     server's rows (it used to end with a checkpoint of one server's file,
//     called complete, and a job that hung and failed);
//   - when a standby took its place, it is told it was replaced and leaves
//     (exit code 75), and the job still succeeds (it used to time out after
//     the job ended and fail it).
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

class ServerStallTest : public ::testing::Test {
 protected:
  void SetUp() override { data_ = testing::GenerateFaultData(dir_, 60000, 20000, 53); }
  std::vector<std::string> Args(std::vector<std::string> extra) const {
    extra.insert(extra.begin(), {"--checkpoint_interval_s=1",
                                 "--scheduler_flags=--node_timeout_ms=1500 --checkpoint_min_gap_s=0"});
    return testing::FaultJobArgs(data_, 30, 100, extra);
  }
  // Rows per table of the exported model.
  static std::map<uint32_t, size_t> RowsPerTable(const std::string& model_dir) {
    std::map<uint32_t, size_t> n;
    for (const auto& [table, rows] : testing::ReadExportedRows(model_dir)) n[table] = rows.size();
    return n;
  }
  // Stops the first daemon matching `what` until the scheduler presumes it
  // dead and, if `until` is set, until the output shows it; then resumes it.
  void Stall(testing::FaultJob& job, const std::string& what, const std::string& until) {
    const auto pids = job.Daemons(what);
    ASSERT_FALSE(pids.empty()) << "no " << what;
    ASSERT_EQ(kill(pids.front(), SIGSTOP), 0);
    bool seen = job.AwaitOutput("presumed dead", seconds(30));
    if (seen && !until.empty()) seen = job.AwaitOutput(until, seconds(60));
    ASSERT_EQ(kill(pids.front(), SIGCONT), 0);
    ASSERT_TRUE(seen) << job.output();
  }
  // The newest checkpoint's manifest.
  static nlohmann::json LatestManifest(const std::string& checkpoint_dir) {
    std::string newest;
    for (const auto& e : std::filesystem::directory_iterator(checkpoint_dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("ckpt-", 0) == 0 && std::filesystem::exists(e.path() / "MANIFEST.json") && name > newest) {
        newest = name;
      }
    }
    std::ifstream in(checkpoint_dir + "/" + newest + "/MANIFEST.json");
    return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }

  testing::ScratchDir dir_;
  testing::FaultData data_;
};

TEST_F(ServerStallTest, AStalledServerNobodyReplacedServesAgainAndTheModelIsWhole) {
  testing::FaultJob clean(dir_, "clean", Args({"--restart_failed=false"}));
  ASSERT_EQ(clean.Wait(seconds(180)), 0) << clean.output();
  const auto clean_rows = RowsPerTable(clean.run_dir() + "/model");
  const double clean_auc = clean.Summary().value("test_auc", 0.0);

  testing::FaultJob job(dir_, "stalled", Args({"--restart_failed=false"}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  // Stalled well past the timeout: 1.5 s to be presumed dead, then 1.5 s more.
  ASSERT_NO_FATAL_FAILURE(Stall(job, "http/server-", ""));
  ASSERT_EQ(job.Wait(seconds(180)), 0) << job.output();
  const std::string out = job.output();
  EXPECT_NE(out.find("was only stalled"), std::string::npos) << out;
  EXPECT_EQ(RowsPerTable(job.run_dir() + "/model"), clean_rows) << "the export must hold both servers' rows";
  const auto manifest = LatestManifest(job.run_dir() + "/checkpoints");
  ASSERT_TRUE(manifest.is_object());
  EXPECT_EQ(manifest["files"], nlohmann::json({"server-0.ckpt", "server-1.ckpt"})) << manifest.dump(2);
  auto summary = job.Summary();
  EXPECT_EQ(summary.value("rows", 0), 60000 * 30);
  EXPECT_NEAR(summary.value("test_auc", 0.0), clean_auc, 0.005) << out;
}

TEST_F(ServerStallTest, AStalledServerAStandbyReplacedLeavesAndTheJobSucceeds) {
  testing::FaultJob job(dir_, "standby", Args({"--standby_servers=1", "--restart_failed=false"}));
  ASSERT_TRUE(job.AwaitOutput("checkpoint 1 (", seconds(60))) << job.output();
  // Resumed only once the standby serves its rank.
  ASSERT_NO_FATAL_FAILURE(Stall(job, "http/server-", "is back (shard map epoch 2)"));
  ASSERT_EQ(job.Wait(seconds(180)), 0) << job.output();
  const std::string out = job.output();
  EXPECT_NE(out.find("was replaced (after a stall or a SIGTERM) and left the job"), std::string::npos) << out;
  EXPECT_NE(out.find("restored from checkpoint"), std::string::npos) << out;
  const auto manifest = LatestManifest(job.run_dir() + "/checkpoints");
  ASSERT_TRUE(manifest.is_object());
  EXPECT_EQ(manifest["files"], nlohmann::json({"server-0.ckpt", "server-1.ckpt"})) << manifest.dump(2);
  auto summary = job.Summary();
  EXPECT_GE(summary.value("failovers", 0), 1);
  ASSERT_TRUE(summary["failover_details"].is_array()) << summary.dump(2);
  ASSERT_FALSE(summary["failover_details"].empty()) << summary.dump(2);
  EXPECT_NE(summary["failover_details"][0].value("restored_from", "").find("checkpoint"), std::string::npos);
  EXPECT_GT(summary.value("test_auc", 0.0), 0.6);
}

}  // namespace
}  // namespace embedps
