// Monitoring and control of real jobs over HTTP: `embedps status` (table and
// JSON) and `embedps stop` against a running `embedps local` job, every
// node's /metrics, the CLI's exit codes for usage errors and unreachable
// schedulers, a dead node reported on /status, and the HTTP flag checks of
// the daemons.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/http/http_client.h"
#include "tests/support/cluster_fixture.h"
#include "tests/support/local_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Metrics(const std::string& url) {
  auto res = http::Fetch(url, "GET", "/metrics", seconds(5));
  EXPECT_TRUE(res.ok()) << url << ": " << res.status().ToString();
  if (!res.ok()) return "";
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->content_type, "text/plain; version=0.0.4; charset=utf-8");
  return res->body;
}

// The value of the first sample line of `text` that starts with `series`.
double Sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series);
  if (at == std::string::npos) return -1;
  const size_t space = text.find(' ', at + 1 + series.size());
  return std::stod(text.substr(space + 1, text.find('\n', space) - space - 1));
}

TEST(MonitoringTest, StatusMetricsAndStopOnARunningJob) {
  testing::ScratchDir dir;
  testing::LocalJob job(dir);
  Status started = job.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  // The launcher printed the dashboard, every node's metrics URL and its log.
  const std::string printed = job.output();
  EXPECT_NE(printed.find("dashboard at http://" + job.scheduler() + "/"), std::string::npos) << printed;
  for (const char* node : {"scheduler", "server-0", "server-1", "worker-0", "worker-1"}) {
    EXPECT_NE(printed.find(std::string(node) + ".log"), std::string::npos) << node << "\n" << printed;
  }

  // Human table.
  auto table = testing::RunBinary("embedps", {"status", "--scheduler=" + job.scheduler()},
                                  dir.File("status.log"), seconds(20));
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("training"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("ROLE"), std::string::npos) << table.output;
  for (const char* role : {"scheduler ", "server ", "worker "}) {
    EXPECT_NE(table.output.find(std::string("\n") + role), std::string::npos) << role << table.output;
  }

  // JSON.
  auto json = testing::RunBinary("embedps", {"status", "--json", "--scheduler=http://" + job.scheduler()},
                                 dir.File("status.json"), seconds(20));
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto status = nlohmann::json::parse(json.output);
  EXPECT_EQ(status["job"]["state"], "training");
  EXPECT_EQ(status["job"]["dashboard_url"], "http://" + job.scheduler());
  ASSERT_EQ(status["nodes"].size(), 5u);
  std::map<std::string, std::string> urls;
  for (const auto& n : status["nodes"]) {
    EXPECT_EQ(n["health"], "up") << n.dump();
    EXPECT_EQ(n["metrics_url"].get<std::string>().rfind("http://127.0.0.1:", 0), 0u) << n.dump();
    urls[n["role"].get<std::string>() + "-" + std::to_string(n["rank"].get<int>())] = n["metrics_url"];
  }
  EXPECT_GT(status["progress"]["rows"].get<uint64_t>(), 0u);
  EXPECT_GT(status["metrics"]["server_rows"].get<uint64_t>(), 0u);
  EXPECT_GE(status["history"].size(), 2u);

  // Every node serves its own metrics, labeled with its role and rank.
  const std::string server = Metrics(urls["server-1"]);
  EXPECT_GT(Sample(server, "embedps_server_table_rows{job_id=\"" + status["job"]["id"].get<std::string>() +
                               "\",role=\"server\",rank=\"1\",table=\"weights\"}"),
            0)
      << server;
  EXPECT_NE(server.find("# TYPE embedps_server_request_seconds histogram"), std::string::npos);
  EXPECT_GT(Sample(server, "embedps_server_keys_pushed_total{"), 0) << server;
  const std::string worker = Metrics(urls["worker-0"]);
  EXPECT_GT(Sample(worker, "embedps_worker_rows_total{"), 0) << worker;
  EXPECT_EQ(Sample(worker, "embedps_worker_staleness_bound_batches{"), 1) << worker;
  EXPECT_NE(worker.find("embedps_worker_pull_seconds_bucket{"), std::string::npos) << worker;
  const std::string sched = Metrics(urls["scheduler-0"]);
  EXPECT_EQ(Sample(sched, "embedps_scheduler_node_up{job_id=\"" + status["job"]["id"].get<std::string>() +
                              "\",role=\"scheduler\",node_role=\"worker\",node_rank=\"1\"}"),
            1)
      << sched;
  EXPECT_EQ(Sample(sched, "embedps_scheduler_phase{job_id=\"" + status["job"]["id"].get<std::string>() +
                              "\",role=\"scheduler\",phase=\"training\"}"),
            1)
      << sched;
  // Every phase /status can name has its sample, restoring (a --resume
  // loading its checkpoint) included.
  for (const char* phase : {"admitting", "restoring", "stopping", "exporting", "finished", "failed"}) {
    EXPECT_EQ(Sample(sched, "embedps_scheduler_phase{job_id=\"" + status["job"]["id"].get<std::string>() +
                                "\",role=\"scheduler\",phase=\"" + phase + "\"}"),
              0)
        << phase << ": " << sched;
  }

  // A checkpoint on demand: `embedps checkpoint` waits until /status shows a
  // newer complete checkpoint than before, and the scheduler's metrics
  // count it.
  const int64_t before = status["last_checkpoint"].is_object() ? status["last_checkpoint"]["id"].get<int64_t>() : 0;
  auto ckpt = testing::RunBinary("embedps",
                                 {"checkpoint", "--scheduler=" + job.scheduler(), "--token_file=" + job.token_file()},
                                 dir.File("checkpoint.log"), seconds(60));
  EXPECT_EQ(ckpt.exit_code, 0) << ckpt.output;
  EXPECT_NE(ckpt.output.find("written to"), std::string::npos) << ckpt.output;
  auto after = testing::RunBinary("embedps", {"status", "--json", "--scheduler=" + job.scheduler()},
                                  dir.File("status-after.json"), seconds(20));
  auto status_after = nlohmann::json::parse(after.output, nullptr, false);
  ASSERT_TRUE(status_after["last_checkpoint"].is_object()) << after.output;
  EXPECT_GT(status_after["last_checkpoint"]["id"].get<int64_t>(), before);
  EXPECT_GT(status_after["last_checkpoint"]["bytes"].get<uint64_t>(), 0u);
  EXPECT_GE(Sample(Metrics("http://" + job.scheduler()), "embedps_scheduler_checkpoints_written_total{"), 1);

  // Stopping needs the token.
  auto refused = testing::RunBinary("embedps", {"stop", "--scheduler=" + job.scheduler()},
                                    dir.File("stop-refused.log"), seconds(20));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("401"), std::string::npos) << refused.output;
  auto stop = testing::RunBinary("embedps",
                                 {"stop", "--scheduler=" + job.scheduler(), "--token_file=" + job.token_file()},
                                 dir.File("stop.log"), seconds(20));
  EXPECT_EQ(stop.exit_code, 0) << stop.output;

  // The job ends cleanly: model exported and evaluated, summary marked stopped.
  ASSERT_EQ(job.Wait(seconds(60)), 0) << job.output();
  auto summary = nlohmann::json::parse(testing::ReadFile(job.summary_file()));
  EXPECT_TRUE(summary["stopped"].get<bool>());
  EXPECT_LT(summary["rows"].get<uint64_t>(), 20000u * 300);
  EXPECT_GT(summary["test_auc"].get<double>(), 0.5);
  EXPECT_EQ(summary["dashboard_url"], "http://" + job.scheduler() + "/");
  // The launcher names processes (worker-1) in start order, the scheduler
  // ranks them in arrival order: compare the sets of URLs.
  std::set<std::string> from_summary, from_status;
  for (const auto& [name, url] : summary["metrics_urls"].items()) from_summary.insert(url.get<std::string>());
  for (const auto& [node, url] : urls) from_status.insert(url + "/metrics");
  EXPECT_EQ(from_summary, from_status);
}

TEST(MonitoringTest, UnreachableSchedulerExitsWith3WithinTheTimeout) {
  testing::ScratchDir dir;
  // A port nobody listens on.
  boost::asio::io_context ioc;
  int closed_port;
  {
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    closed_port = a.local_endpoint().port();
  }
  auto r = testing::RunBinary("embedps", {"status", "--scheduler=127.0.0.1:" + std::to_string(closed_port)},
                              dir.File("closed.log"), seconds(20));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot reach the scheduler at 127.0.0.1:" + std::to_string(closed_port)),
            std::string::npos)
      << r.output;

  // A listener that accepts and never answers: the timeout decides.
  boost::asio::ip::tcp::acceptor silent(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::string address = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  const auto start = std::chrono::steady_clock::now();
  r = testing::RunBinary("embedps", {"stop", "--scheduler=" + address, "--timeout_s=0.4"},
                         dir.File("silent.log"), seconds(20));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("no answer from " + address + " within 400 ms"), std::string::npos) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

TEST(MonitoringTest, UsageErrorsExitWith2) {
  testing::ScratchDir dir;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status"}, {"status", "--scheduler=no-port-here"}, {"stop", "--scheduler=h:1", "--timeout_s=0"}}) {
    auto r = testing::RunBinary("embedps", args, dir.File("usage.log"), seconds(20));
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.output;
    EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
    std::remove(dir.File("usage.log").c_str());
  }
}

// Flag errors are usage errors (exit 2) in every binary: an unknown flag, a
// value gflags cannot parse, one our checks refuse; --help exits 0.
TEST(MonitoringTest, FlagErrorsExitWith2EverywhereAndHelpWith0) {
  testing::ScratchDir dir;
  struct Case {
    std::string binary;
    std::vector<std::string> args;
    int code;
  };
  const std::vector<Case> cases = {
      {"embedps", {"local", "--no_such_flag"}, 2},
      {"embedps", {"local", "--passes=many"}, 2},
      {"embedps", {"local", "--passes=0"}, 2},
      {"embedps", {"local", "--help"}, 0},
      {"embedps-server", {"--no_such_flag"}, 2},
      {"embedps-scheduler", {"--num_servers=x"}, 2},
      {"embedps-scheduler", {"--num_servers=0", "--train=t.tsv"}, 2},
      {"embedps-worker", {"--batch_size=0", "--scheduler=tcp://127.0.0.1:9"}, 2},
      {"embedps-worker", {"--help"}, 0},
  };
  for (const auto& c : cases) {
    auto r = testing::RunBinary(c.binary, c.args, dir.File("flags.log"), seconds(20));
    EXPECT_EQ(r.exit_code, c.code) << c.binary << " " << c.args.back() << ": " << r.output;
    std::remove(dir.File("flags.log").c_str());
  }
}

TEST(MonitoringTest, HttpFlagsAreChecked) {
  testing::ScratchDir dir;
  const std::string token = dir.Write("token", "tok-0123456789abcdef\n");
  struct Case {
    std::string binary;
    std::vector<std::string> args;
    std::string expect;
    int code;  // 2: a bad flag; 1: a flag fine as such that cannot be served
  };
  const std::vector<Case> cases = {
      {"embedps-server", {"--scheduler=tcp://127.0.0.1:1", "--http_enable_mutations"}, "--http_token_file", 2},
      {"embedps-worker", {"--scheduler=tcp://127.0.0.1:1", "--http_port=70000"}, "--http_port must be", 2},
      {"embedps-server", {"--scheduler=tcp://127.0.0.1:1", "--http_token_file=" + dir.File("none")},
       "cannot read token file", 1},
      // TEST-NET-1: a valid address that is not this machine's.
      {"embedps-scheduler", {"--train=" + token, "--http_bind=192.0.2.1"}, "cannot serve HTTP on 192.0.2.1:0", 1},
      {"embedps", {"local", "--train=" + token, "--test=" + token, "--http_enable_mutations"}, "--http_token_file", 2},
  };
  for (const auto& c : cases) {
    auto r = testing::RunBinary(c.binary, c.args, dir.File("out.log"), seconds(20));
    EXPECT_EQ(r.exit_code, c.code) << c.binary << ": " << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.binary << ": " << r.output;
    std::remove(dir.File("out.log").c_str());
  }
}

// A worker that stops heartbeating is reported dead on /status, and the
// scheduler keeps serving the final state for --http_linger_ms.
TEST(MonitoringTest, DeadNodeIsReportedOnStatus) {
  testing::ScratchDir dir;
  const std::string url_file = dir.File("scheduler.url");
  testing::ClusterSpec spec;
  spec.servers = 1;
  spec.workers = 1;
  spec.scheduler_flags = {"--node_timeout_ms=1500", "--http_linger_ms=20000", "--http_url_file=" + url_file};
  testing::ProcessCluster cluster(spec);
  ASSERT_TRUE(cluster.Start().ok());
  zmq::context_t ctx(1);
  auto link = testing::MakeWorkerLink(ctx, cluster.scheduler_endpoint(), spec.token);
  ASSERT_TRUE(link->Join().ok());
  // Joined, then silent: no Tick() from here on.
  std::string address;
  nlohmann::json status;
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(200));
    if (address.empty()) {
      std::string url = testing::ReadFile(url_file);
      if (!url.empty()) address = url.substr(7, url.find('\n') - 7);
      continue;
    }
    auto res = http::Fetch(address, "GET", "/status", seconds(2));
    if (!res.ok() || res->status != 200) continue;
    status = nlohmann::json::parse(res->body);
    if (status["job"]["state"] == "failed") break;
  }
  ASSERT_EQ(status["job"]["state"], "failed") << status.dump(2);
  EXPECT_NE(status["job"]["error"].get<std::string>().find("worker 0 missed heartbeats"), std::string::npos);
  bool dead_seen = false, death_event = false;
  for (const auto& n : status["nodes"]) dead_seen |= n["role"] == "worker" && n["health"] == "dead";
  for (const auto& e : status["events"]) death_event |= e["kind"] == "death";
  EXPECT_TRUE(dead_seen) << status.dump(2);
  EXPECT_TRUE(death_event) << status.dump(2);
  cluster.group().TerminateAll(milliseconds(0));
}

}  // namespace
}  // namespace embedps
