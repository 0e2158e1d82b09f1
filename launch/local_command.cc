#include "launch/local_command.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "launch/process_group.h"
#include "ps/optimizer.h"
#include "worker/eval/lr_evaluator.h"

namespace embedps::launch {
namespace {

// Set by SIGINT/SIGTERM so the launcher can stop its children cleanly. A
// signal handler can only reach a global.
volatile sig_atomic_t g_interrupted = 0;
void OnSignal(int) { g_interrupted = 1; }

using Clock = std::chrono::steady_clock;

Status Validate(const LocalOptions& o) {
  if (o.model != "lr") return InvalidArgument("--model must be lr (got '" + o.model + "')");
  if (o.train.empty() || o.test.empty()) return InvalidArgument("--train and --test are required");
  for (const auto& f : {o.train, o.test}) {
    if (!std::filesystem::is_regular_file(f)) return NotFound("data file " + f + " does not exist");
  }
  if (o.servers == 0 || o.servers > 64) return InvalidArgument("--servers must be in 1..64");
  if (o.workers == 0 || o.workers > 64) return InvalidArgument("--workers must be in 1..64");
  if (o.passes == 0) return InvalidArgument("--passes must be >= 1");
  if (o.batch_size == 0) return InvalidArgument("--batch_size must be >= 1");
  if (!(o.learning_rate > 0)) return InvalidArgument("--learning_rate must be > 0");
  if (o.http_port < -1 || o.http_port > 65535) {
    return InvalidArgument("--http_port must be -1 (off), 0 (any free port) or 1..65535");
  }
  if (o.http_enable_mutations && o.http_token_file.empty()) {
    return InvalidArgument("--http_enable_mutations needs --http_token_file");
  }
  ps::OptimizerConfig optimizer;
  optimizer.name = o.optimizer;
  optimizer.learning_rate = static_cast<float>(o.learning_rate);
  if (auto made = ps::MakeOptimizer(optimizer); !made.ok()) {
    return made.status().WithContext("--optimizer");
  }
  return Status::OK();
}

StatusOr<std::string> MakeRunDir(const std::string& requested) {
  std::string dir = requested;
  if (dir.empty()) {
    std::string templ = "/tmp/embedps-local-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) return Unavailable("cannot create a run directory in /tmp");
    dir = templ;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir + "/logs", ec);
  if (ec) return Unavailable("cannot create " + dir + "/logs: " + ec.message());
  std::filesystem::remove_all(dir + "/model", ec);
  return std::filesystem::absolute(dir).string();
}

Status ChildFailed(const ChildExit& exit) {
  std::string why = LastErrorLine(exit.log_file);
  std::string how = exit.signaled ? "was killed by signal " + std::to_string(exit.exit_code - 128)
                                  : "exited with code " + std::to_string(exit.exit_code);
  return Aborted(exit.name + " " + how + (why.empty() ? "" : ": " + why) + " (log: " +
                 exit.log_file + ")");
}

// Waits for the scheduler to publish its endpoint, failing fast if it dies.
StatusOr<std::string> AwaitEndpoint(ProcessGroup& group, const std::string& file) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    std::ifstream in(file);
    std::string endpoint;
    if (in >> endpoint && !endpoint.empty()) return endpoint;
    if (auto exit = group.WaitAny(std::chrono::milliseconds(50))) return ChildFailed(*exit);
    if (g_interrupted) return Aborted("interrupted");
  }
  return DeadlineExceeded("the scheduler did not start listening within 30 s");
}

std::vector<std::string> CommonFlags(const std::string& token) {
  return {"--cluster_token=" + token};
}

std::string UrlFile(const std::string& run_dir, const std::string& name) {
  return run_dir + "/http/" + name + ".url";
}

// The scheduler gets the requested HTTP port and the mutation settings; the
// other nodes take free ports and serve /metrics only.
std::vector<std::string> HttpFlags(const LocalOptions& o, const std::string& run_dir,
                                   const std::string& name) {
  if (o.http_port == -1) return {"--http_port=-1"};
  const bool scheduler = name == "scheduler";
  std::vector<std::string> flags = {"--http_port=" + std::to_string(scheduler ? o.http_port : 0),
                                    "--http_bind=" + o.http_bind,
                                    "--http_url_file=" + UrlFile(run_dir, name)};
  if (scheduler && o.http_enable_mutations) flags.push_back("--http_enable_mutations");
  if (scheduler && !o.http_token_file.empty()) flags.push_back("--http_token_file=" + o.http_token_file);
  return flags;
}

// Starts one daemon with the shared flags, its HTTP flags and `args`.
Status StartNode(const LocalOptions& o, const std::string& run_dir, ProcessGroup& group,
                 const std::string& name, const std::string& binary, const std::string& token,
                 const std::vector<std::string>& args, bool inherit_stdout = false) {
  ChildSpec spec{name, o.bin_dir + "/" + binary, CommonFlags(token),
                 run_dir + "/logs/" + name + ".log", inherit_stdout};
  for (const auto& f : HttpFlags(o, run_dir, name)) spec.args.push_back(f);
  spec.args.insert(spec.args.end(), args.begin(), args.end());
  return group.Start(spec).status();
}

// Starts every node; returns their names, scheduler first.
StatusOr<std::vector<std::string>> StartCluster(const LocalOptions& o, const std::string& run_dir,
                                                ProcessGroup& group) {
  const std::string token = "local-" + std::to_string(getpid()) + "-" +
                            std::to_string(Clock::now().time_since_epoch().count());
  const std::string endpoint_file = run_dir + "/scheduler.endpoint";
  std::filesystem::remove(endpoint_file);
  std::filesystem::remove_all(run_dir + "/http");
  std::filesystem::create_directories(run_dir + "/http");
  std::vector<std::string> names = {"scheduler"};
  RETURN_IF_ERROR(StartNode(
      o, run_dir, group, "scheduler", "embedps-scheduler", token,
      {"--endpoint_file=" + endpoint_file, "--num_servers=" + std::to_string(o.servers),
       "--num_workers=" + std::to_string(o.workers), "--train=" + o.train,
       "--passes=" + std::to_string(o.passes), "--model_dir=" + run_dir + "/model",
       "--max_bad_line_fraction=" + std::to_string(o.max_bad_line_fraction),
       "--stats_json=" + run_dir + "/train_stats.json", "--job_name=embedps local"},
      /*inherit_stdout=*/true));
  ASSIGN_OR_RETURN(std::string endpoint, AwaitEndpoint(group, endpoint_file));

  for (uint32_t s = 0; s < o.servers; ++s) {
    names.push_back("server-" + std::to_string(s));
    RETURN_IF_ERROR(StartNode(o, run_dir, group, names.back(), "embedps-server", token,
                              {"--scheduler=" + endpoint, "--optimizer=" + o.optimizer,
                               "--learning_rate=" + std::to_string(o.learning_rate)}));
  }
  for (uint32_t w = 0; w < o.workers; ++w) {
    names.push_back("worker-" + std::to_string(w));
    RETURN_IF_ERROR(StartNode(o, run_dir, group, names.back(), "embedps-worker", token,
                              {"--scheduler=" + endpoint, "--batch_size=" + std::to_string(o.batch_size),
                               "--prefetch=" + std::to_string(o.prefetch)}));
  }
  return names;
}

// Waits until every node has written its HTTP URL (nodes write it before
// joining, so no job can end first) and returns them by node name.
StatusOr<std::map<std::string, std::string>> AwaitUrls(ProcessGroup& group, const std::string& run_dir,
                                                       const std::vector<std::string>& names) {
  std::map<std::string, std::string> urls;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (urls.size() < names.size()) {
    for (const auto& name : names) {
      std::ifstream in(UrlFile(run_dir, name));
      std::string url;
      if (in >> url && !url.empty()) urls[name] = url;
    }
    if (urls.size() == names.size()) break;
    if (Clock::now() > deadline) return DeadlineExceeded("nodes did not report their HTTP URLs within 30 s");
    if (g_interrupted) return Aborted("interrupted");
    if (auto exit = group.WaitAny(std::chrono::milliseconds(50)); exit && exit->exit_code != 0) {
      return ChildFailed(*exit);
    }
  }
  return urls;
}

void PrintEndpoints(const std::string& run_dir, const std::vector<std::string>& names,
                    const std::map<std::string, std::string>& urls) {
  if (urls.empty()) {
    std::printf("embedps: HTTP endpoints are off (--http_port=-1); logs in %s/logs\n", run_dir.c_str());
  } else {
    const std::string& dashboard = urls.at("scheduler");
    std::printf("embedps: dashboard at %s/ (embedps status --scheduler %s)\n", dashboard.c_str(),
                dashboard.substr(dashboard.find("//") + 2).c_str());
    std::printf("embedps: metrics and logs of every node:\n");
  }
  for (const auto& name : names) {
    auto it = urls.find(name);
    std::printf("  %-10s %-36s %s/logs/%s.log\n", name.c_str(),
                it == urls.end() ? "-" : (it->second + "/metrics").c_str(), run_dir.c_str(), name.c_str());
  }
  std::fflush(stdout);
}

// Waits until every child exited successfully; the first failure ends it.
Status AwaitJob(const LocalOptions& o, ProcessGroup& group) {
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  while (group.running() > 0) {
    if (g_interrupted) return Aborted("interrupted; stopped all processes");
    if (Clock::now() > deadline) {
      return DeadlineExceeded("job did not finish within --timeout_s=" + std::to_string(o.timeout_s));
    }
    auto exit = group.WaitAny(std::chrono::milliseconds(200));
    if (exit && exit->exit_code != 0) return ChildFailed(*exit);
  }
  return Status::OK();
}

StatusOr<nlohmann::json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + " does not exist");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(path + " is not valid JSON");
  return j;
}

}  // namespace

Status RunLocal(const LocalOptions& o) {
  RETURN_IF_ERROR(Validate(o));
  ASSIGN_OR_RETURN(const std::string run_dir, MakeRunDir(o.run_dir));
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  std::printf("embedps: local cluster with %u servers and %u workers; logs in %s/logs\n", o.servers,
              o.workers, run_dir.c_str());
  std::fflush(stdout);
  const auto wall_start = Clock::now();
  std::map<std::string, std::string> urls;
  {
    ProcessGroup group;
    auto names = StartCluster(o, run_dir, group);
    Status st = names.status();
    if (st.ok() && o.http_port != -1) {
      auto got = AwaitUrls(group, run_dir, *names);
      st = got.status();
      if (st.ok()) urls = std::move(got).value();
    }
    if (st.ok()) PrintEndpoints(run_dir, *names, urls);
    if (st.ok()) st = AwaitJob(o, group);
    if (!st.ok()) {
      group.TerminateAll(std::chrono::milliseconds(2000));
      return st;
    }
  }
  ASSIGN_OR_RETURN(nlohmann::json stats, ReadJson(run_dir + "/train_stats.json"));
  if (stats.value("stopped", false)) {
    std::printf("embedps: the job was stopped on request after %llu rows\n",
                static_cast<unsigned long long>(stats.value("rows", uint64_t{0})));
  }
  std::printf("embedps: evaluating on %s\n", o.test.c_str());
  std::fflush(stdout);
  ASSIGN_OR_RETURN(worker::EvalResult eval,
                   worker::EvaluateLrModel(run_dir + "/model", o.test, o.max_bad_line_fraction));

  nlohmann::json summary = stats;
  summary["model"] = o.model;
  summary["test_rows"] = eval.rows;
  summary["test_auc"] = eval.auc;
  summary["test_logloss"] = eval.logloss;
  summary["model_rows"] = eval.model_rows;
  summary["wall_seconds"] = std::chrono::duration<double>(Clock::now() - wall_start).count();
  summary["run_dir"] = run_dir;
  summary["log_dir"] = run_dir + "/logs";
  if (!urls.empty()) {
    summary["dashboard_url"] = urls["scheduler"] + "/";
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [name, url] : urls) metrics[name] = url + "/metrics";
    summary["metrics_urls"] = metrics;
  }
  std::string oracle;
  if (auto meta = ReadJson(o.test + ".meta.json"); meta.ok()) {
    for (const char* key : {"oracle_auc", "oracle_logloss"}) {
      if (meta->contains(key)) summary[key] = (*meta)[key];
    }
    if (meta->contains("oracle_auc")) {
      char buf[128];
      std::snprintf(buf, sizeof(buf), " (oracle %.4f)", (*meta)["oracle_auc"].get<double>());
      oracle = buf;
    }
  }
  std::printf("embedps: test AUC %.4f%s, test logloss %.4f", eval.auc, oracle.c_str(), eval.logloss);
  if (summary.contains("oracle_logloss")) {
    std::printf(" (oracle %.4f)", summary["oracle_logloss"].get<double>());
  }
  std::printf(" on %llu rows; %.0f training rows/s\n", static_cast<unsigned long long>(eval.rows),
              summary.value("rows_per_sec", 0.0));
  if (!o.summary_json.empty()) {
    std::ofstream out(o.summary_json);
    out << summary.dump(2) << "\n";
    if (!out) return Unavailable("cannot write " + o.summary_json);
    std::printf("embedps: summary written to %s\n", o.summary_json.c_str());
  }
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace embedps::launch
