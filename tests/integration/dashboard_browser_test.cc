// The live dashboard in a real browser: Debian's chromium, headless, loads
// GET / of a running job's scheduler, runs the page's JavaScript (polling
// /status), and the rendered DOM must show every node and plotted points.
// A screenshot is kept in build/test-output/dashboard_browser_test/ and
// copied to build/test-artifacts/dashboard.png. Skips without chromium.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/http/http_client.h"
#include "launch/process_group.h"
#include "tests/support/local_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

std::string FindChromium() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string candidate = dir + "/" + name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Loads the dashboard of the scheduler at `scheduler` (HOST:PORT) in
// headless chromium, lets its timers poll /status for 5 s of virtual time,
// and returns the rendered DOM; takes a screenshot.
std::string RenderDashboard(const std::string& chromium, const testing::ScratchDir& dir, const std::string& scheduler,
                            const std::string& screenshot) {
  std::filesystem::remove(screenshot);
  const std::string dom = dir.File("dom.html");
  std::filesystem::remove(dom);
  const std::string command =
      "exec '" + chromium + "' --headless --no-sandbox --disable-gpu --hide-scrollbars " +
      "--user-data-dir='" + dir.File("chromium-profile") + "' --window-size=1280,1100 " +
      "--virtual-time-budget=5000 --screenshot='" + screenshot + "' --dump-dom http://" + scheduler + "/ > '" + dom +
      "' 2> '" + dir.File("chromium.log") + "'";
  launch::ProcessGroup group;
  EXPECT_TRUE(group.Start({"chromium", "/bin/sh", {"-c", command}, dir.File("sh.log")}).ok());
  auto exit = group.WaitAny(std::chrono::milliseconds(90000));
  EXPECT_TRUE(exit.has_value()) << "chromium did not finish within 90 s";
  if (exit) EXPECT_EQ(exit->exit_code, 0) << testing::ReadFile(dir.File("chromium.log"));
  return testing::ReadFile(dom);
}

TEST(DashboardBrowserTest, ShowsNodesAndPlotsOfALiveJob) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium; scripts/setup.sh does)";
  }
  testing::ScratchDir dir;
  testing::LocalJob job(dir);
  Status started = job.Start(/*samples=*/3);
  ASSERT_TRUE(started.ok()) << started.ToString();

  const std::string out_dir = testing::TestOutputDir("dashboard_browser_test");
  const std::string screenshot = out_dir + "/dashboard.png";
  const std::string dom = RenderDashboard(chromium, dir, job.scheduler(), screenshot);
  EXPECT_EQ(Count(dom, "class=\"node-row\""), 5u) << dom;
  EXPECT_EQ(Count(dom, "data-role=\"server\" data-health=\"up\""), 2u) << dom;
  EXPECT_EQ(Count(dom, "data-role=\"worker\" data-health=\"up\""), 2u) << dom;
  EXPECT_GE(Count(dom, "class=\"plot-point\" data-series=\"throughput\""), 3u) << dom;
  EXPECT_GE(Count(dom, "class=\"plot-point\" data-series=\"loss\""), 3u) << dom;
  EXPECT_EQ(Count(dom, "class=\"shard-bar\""), 2u) << dom;
  EXPECT_NE(dom.find("embedps local"), std::string::npos);
  EXPECT_NE(dom.find(">training<"), std::string::npos);
  EXPECT_NE(dom.find("class=\"kind join\""), std::string::npos);
  // The job's settings and its checkpoints, near the top.
  EXPECT_NE(dom.find("data-key=\"model\"><div class=\"k\">model</div><div class=\"v\" title=\"lr\">lr</div>"),
            std::string::npos)
      << "lr has no factors or MLP to show: " << dom;
  EXPECT_NE(dom.find(">adagrad (lr 0.05)<"), std::string::npos) << dom;
  EXPECT_NE(dom.find(">criteo<"), std::string::npos) << dom;
  EXPECT_NE(dom.find("id=\"checkpoint-failures\" class=\"ok\">0 failed<"), std::string::npos) << dom;
  EXPECT_NE(dom.find("id=\"checkpoint-last\""), std::string::npos) << dom;
  EXPECT_NE(dom.find(">rows/s (recent)<"), std::string::npos) << dom;

  const std::string png = testing::ReadFile(screenshot);
  ASSERT_GT(png.size(), 10000u) << "no screenshot at " << screenshot;
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const std::string artifact = testing::ArtifactsDir() + "/dashboard.png";
  std::filesystem::copy_file(screenshot, artifact, std::filesystem::copy_options::overwrite_existing);
  std::printf("dashboard screenshot: %s (copied to %s)\n", screenshot.c_str(), artifact.c_str());

  auto stop = http::Fetch(job.scheduler(), "POST", "/stop", seconds(5),
                          {{"Authorization", "Bearer " + testing::ReadFile(job.token_file()).substr(0, 27)}});
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  EXPECT_EQ(stop->status, 202) << stop->body;
  EXPECT_EQ(job.Wait(seconds(60)), 0) << job.output();
}

// A finished job's page (the scheduler lingers to serve it) shows the final
// test metrics and the mean rate over the training.
TEST(DashboardBrowserTest, FinishedJobShowsFinalMetricsAndMeanRate) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium; scripts/setup.sh does)";
  }
  testing::ScratchDir dir;
  testing::LocalJob job(dir, /*passes=*/2, {"--eval_every_s=0.2", "--scheduler_flags=--http_linger_ms=12000"});
  Status started = job.Start(/*samples=*/0);
  ASSERT_TRUE(started.ok()) << started.ToString();
  std::string state;
  for (int i = 0; i < 300 && state != "finished"; ++i) {
    auto status = job.FetchStatus();
    if (status.ok()) state = (*status)["job"]["state"].get<std::string>();
    if (state != "finished") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(state, "finished") << job.output();
  const std::string dom = RenderDashboard(chromium, dir, job.scheduler(),
                                          testing::TestOutputDir("dashboard_browser_test") + "/finished.png");
  EXPECT_NE(dom.find(">finished<"), std::string::npos) << dom;
  EXPECT_NE(dom.find(">rows/s (mean)<"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<b>Finished: </b>"), std::string::npos) << dom;
  EXPECT_NE(dom.find("rows/s on average; test AUC "), std::string::npos) << dom;
  EXPECT_NE(dom.find(" rows (final)"), std::string::npos) << dom;
  EXPECT_EQ(job.Wait(seconds(90)), 0) << job.output();
}

}  // namespace
}  // namespace embedps
