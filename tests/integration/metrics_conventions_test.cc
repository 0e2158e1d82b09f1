// Every node's /metrics follows Prometheus's conventions (promtool check
// metrics, where promtool is installed), carries the standard process_*
// metrics and embedps_build_info, and every node answers the probes:
// /healthz while it runs, /readyz once it joined its job (503 before).
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http/http_client.h"
#include "launch/process_group.h"
#include "tests/support/local_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

http::ClientResponse Get(const std::string& url, const std::string& path) {
  auto res = http::Fetch(url, "GET", path, seconds(5));
  EXPECT_TRUE(res.ok()) << url << path << ": " << res.status().ToString();
  return res.ok() ? *res : http::ClientResponse{};
}

// promtool's findings on `text` ("" when clean); nullopt without promtool.
std::optional<std::string> Promtool(const testing::ScratchDir& dir, const std::string& name, const std::string& text) {
  if (testing::RunProgram("/bin/sh", {"-c", "command -v promtool"}, dir.File("which.log"), seconds(10)).exit_code != 0) {
    return std::nullopt;
  }
  const std::string file = dir.Write(name + ".prom", text);
  auto run = testing::RunProgram("/bin/sh", {"-c", "promtool check metrics < " + file}, dir.File(name + ".promtool"),
                                 seconds(30));
  return run.exit_code == 0 && run.output.empty() ? "" : run.output;
}

TEST(MetricsConventionsTest, EveryNodeFollowsPrometheusConventionsAndAnswersTheProbes) {
  testing::ScratchDir dir;
  testing::LocalJob job(dir);
  ASSERT_TRUE(job.Start().ok()) << job.output();
  auto status = job.FetchStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_EQ((*status)["nodes"].size(), 5u);
  bool promtool_ran = false;
  // docs/operations.md documents every family a node exposes.
  const std::string docs = testing::ReadFile(testing::SourceDir() + "/docs/operations.md");
  ASSERT_FALSE(docs.empty());
  // Servers report their resident memory (RSS) beside what their tables
  // reserved; the summary sums both.
  for (const auto& node : (*status)["nodes"]) {
    if (node["role"] != "server") continue;
    EXPECT_GT(node["resident_bytes"].get<double>(), 1e6) << node.dump();
    EXPECT_LT(node["resident_bytes"].get<double>(), 64e9) << node.dump();
    EXPECT_GT(node["reserved_bytes"].get<double>(), 0) << node.dump();
  }
  EXPECT_GT((*status)["metrics"]["server_resident_bytes"].get<double>(), 2e6);
  for (const auto& node : (*status)["nodes"]) {
    const std::string url = node["metrics_url"];
    const std::string name = node["role"].get<std::string>() + "-" + std::to_string(node["rank"].get<int>());
    const http::ClientResponse metrics = Get(url, "/metrics");
    ASSERT_EQ(metrics.status, 200) << name;
    if (auto findings = Promtool(dir, name, metrics.body)) {
      promtool_ran = true;
      EXPECT_EQ(*findings, "") << name << ": promtool check metrics:\n" << *findings;
    }
    // The standard process metrics, with plausible values.
    const std::regex rss(R"(\nprocess_resident_memory_bytes ([0-9.e+]+)\n)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(metrics.body, m, rss)) << name << metrics.body;
    EXPECT_GT(std::stod(m[1]), 1e6) << name;
    EXPECT_LT(std::stod(m[1]), 64e9) << name;
    EXPECT_NE(metrics.body.find("\nprocess_cpu_seconds_total "), std::string::npos) << name;
    EXPECT_NE(metrics.body.find("\nprocess_start_time_seconds "), std::string::npos) << name;
    EXPECT_NE(metrics.body.find("\nprocess_open_fds "), std::string::npos) << name;
    EXPECT_TRUE(std::regex_search(metrics.body, std::regex(R"re(\nembedps_build_info\{version="\d+\.\d+\.\d+",commit="([0-9a-f]{12}|unknown)"\} 1\n)re")))
        << name;
    EXPECT_EQ(metrics.body.find("partitions_total"), std::string::npos) << "a gauge named like a counter";
    const std::regex family(R"(# TYPE (embedps_[a-z_]+) )");
    for (auto it = std::sregex_iterator(metrics.body.begin(), metrics.body.end(), family); it != std::sregex_iterator();
         ++it) {
      EXPECT_NE(docs.find("`" + (*it)[1].str()), std::string::npos)
          << name << " exposes " << (*it)[1].str() << ", which docs/operations.md does not document";
    }
    const http::ClientResponse live = Get(url, "/healthz");
    EXPECT_EQ(live.status, 200) << name;
    EXPECT_EQ(live.body, "ok\n") << name;
    EXPECT_EQ(Get(url, "/readyz").status, 200) << name << ": joined, so ready";
  }
  if (!promtool_ran) std::printf("promtool not installed (Debian package prometheus): conventions checked by hand only\n");
}

// Periodic evaluation is live: its results are on /status ("evals", which
// the dashboard plots) and in the scheduler's metrics while the job runs.
TEST(MetricsConventionsTest, PeriodicEvaluationIsOnStatusAndInTheMetrics) {
  testing::ScratchDir dir;
  testing::LocalJob job(dir, 300, {"--eval_every_s=0.3", "--eval_rows=500"});
  ASSERT_TRUE(job.Start().ok()) << job.output();
  nlohmann::json evals;
  for (int i = 0; i < 100 && evals.size() < 2; ++i) {
    auto status = job.FetchStatus();
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    if (status->contains("evals")) evals = (*status)["evals"];
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(evals.size(), 2u) << "no evaluations on /status: " << job.output();
  for (const auto& e : evals) {
    EXPECT_FALSE(e["final"].get<bool>());
    EXPECT_GT(e["test_auc"].get<double>(), 0.5) << e.dump();
    EXPECT_GT(e["train_seconds"].get<double>(), 0.0) << e.dump();
  }
  const std::string metrics = Get("http://" + job.scheduler(), "/metrics").body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics, m, std::regex(R"(\nembedps_scheduler_eval_test_auc\{[^}]*\} ([0-9.e+-]+)\n)")))
      << metrics;
  EXPECT_GT(std::stod(m[1]), 0.5);
  EXPECT_LT(std::stod(m[1]), 1.0);
  ASSERT_TRUE(std::regex_search(metrics, m, std::regex(R"(\nembedps_scheduler_evals_total\{[^}]*\} ([0-9]+)\n)")))
      << metrics;
  EXPECT_GE(std::stoi(m[1]), 2);
}

TEST(MetricsConventionsTest, ANodeIsLiveButNotReadyUntilItJoins) {
  testing::ScratchDir dir;
  launch::ProcessGroup group;
  const std::string url_file = dir.File("server.url");
  // No scheduler listens at this endpoint: the server waits to join.
  launch::ChildSpec spec{"server", testing::BinDir() + "/embedps-server",
                         {"--scheduler=tcp://127.0.0.1:9", "--bind=tcp://127.0.0.1:0", "--http_port=0",
                          "--http_url_file=" + url_file, "--join_timeout_ms=60000"},
                         dir.File("server.log")};
  ASSERT_TRUE(group.Start(spec).ok());
  std::string url;
  for (int i = 0; i < 200 && url.empty(); ++i) {
    std::ifstream in(url_file);
    if (!(in >> url)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(url.empty()) << testing::ReadFile(dir.File("server.log"));
  EXPECT_EQ(Get(url, "/healthz").status, 200);
  const http::ClientResponse ready = Get(url, "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("not ready"), std::string::npos) << ready.body;
  group.TerminateAll(std::chrono::milliseconds(2000));
}

TEST(MetricsConventionsTest, EveryBinarySaysItsVersionAndCommit) {
  testing::ScratchDir dir;
  for (const char* binary : {"embedps", "embedps-scheduler", "embedps-server", "embedps-worker"}) {
    const auto run = testing::RunBinary(binary, {"--version"}, dir.File(std::string(binary) + ".log"), seconds(20));
    EXPECT_EQ(run.exit_code, 0) << binary << run.output;
    EXPECT_TRUE(std::regex_search(run.output, std::regex(R"re(version \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}|unknown)\))re")))
        << binary << ": " << run.output;
  }
}

}  // namespace
}  // namespace embedps
