#include "launch/local_command.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/security/curve_keys.h"
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

// The flags every child gets: the job's token and, with CURVE, the key
// directory and the child's own key (named after the child).
std::vector<std::string> CommonFlags(const std::string& token, const std::string& key_dir,
                                     const std::string& child) {
  std::vector<std::string> flags = {"--cluster_token=" + token};
  if (!key_dir.empty()) {
    flags.push_back("--curve_dir=" + key_dir);
    if (child != "scheduler") flags.push_back("--curve_key=" + child);
  }
  return flags;
}

// With --curve: a fresh key directory for this run's children. Without it,
// says plainly that the cluster talks in the clear.
StatusOr<std::string> PrepareKeys(const LocalOptions& o, const std::string& run_dir) {
  if (!o.curve) {
    std::printf("embedps: CURVE is off: cluster traffic on loopback is unencrypted and "
                "unauthenticated (--curve turns it on)\n");
    return std::string();
  }
  const std::string dir = run_dir + "/keys";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::vector<std::string> names;
  for (uint32_t s = 0; s < o.servers; ++s) names.push_back("server-" + std::to_string(s));
  for (uint32_t w = 0; w < o.workers; ++w) names.push_back("worker-" + std::to_string(w));
  RETURN_IF_ERROR(security::WriteKeyDirectory(dir, names));
  std::printf("embedps: CURVE is on: every connection is encrypted and admitted by key (%zu node "
              "keys in %s)\n",
              names.size(), dir.c_str());
  return dir;
}

Status StartCluster(const LocalOptions& o, const std::string& run_dir, ProcessGroup& group) {
  const std::string token = "local-" + std::to_string(getpid()) + "-" +
                            std::to_string(Clock::now().time_since_epoch().count());
  ASSIGN_OR_RETURN(const std::string key_dir, PrepareKeys(o, run_dir));
  std::fflush(stdout);
  const std::string endpoint_file = run_dir + "/scheduler.endpoint";
  std::filesystem::remove(endpoint_file);
  ChildSpec sched{"scheduler", o.bin_dir + "/embedps-scheduler",
                  CommonFlags(token, key_dir, "scheduler"),
                  run_dir + "/logs/scheduler.log", /*inherit_stdout=*/true};
  sched.args.insert(sched.args.end(),
                    {"--endpoint_file=" + endpoint_file, "--num_servers=" + std::to_string(o.servers),
                     "--num_workers=" + std::to_string(o.workers), "--train=" + o.train,
                     "--passes=" + std::to_string(o.passes), "--model_dir=" + run_dir + "/model",
                     "--max_bad_line_fraction=" + std::to_string(o.max_bad_line_fraction),
                     "--stats_json=" + run_dir + "/train_stats.json"});
  RETURN_IF_ERROR(group.Start(sched).status());
  ASSIGN_OR_RETURN(std::string endpoint, AwaitEndpoint(group, endpoint_file));

  for (uint32_t s = 0; s < o.servers; ++s) {
    const std::string name = "server-" + std::to_string(s);
    ChildSpec spec{name, o.bin_dir + "/embedps-server", CommonFlags(token, key_dir, name),
                   run_dir + "/logs/" + name + ".log"};
    spec.args.insert(spec.args.end(),
                     {"--scheduler=" + endpoint, "--optimizer=" + o.optimizer,
                      "--learning_rate=" + std::to_string(o.learning_rate)});
    RETURN_IF_ERROR(group.Start(spec).status());
  }
  for (uint32_t w = 0; w < o.workers; ++w) {
    const std::string name = "worker-" + std::to_string(w);
    ChildSpec spec{name, o.bin_dir + "/embedps-worker", CommonFlags(token, key_dir, name),
                   run_dir + "/logs/" + name + ".log"};
    spec.args.insert(spec.args.end(),
                     {"--scheduler=" + endpoint, "--batch_size=" + std::to_string(o.batch_size),
                      "--prefetch=" + std::to_string(o.prefetch)});
    RETURN_IF_ERROR(group.Start(spec).status());
  }
  return Status::OK();
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
  {
    ProcessGroup group;
    Status st = StartCluster(o, run_dir, group);
    if (st.ok()) st = AwaitJob(o, group);
    if (!st.ok()) {
      group.TerminateAll(std::chrono::milliseconds(2000));
      return st;
    }
  }
  ASSIGN_OR_RETURN(nlohmann::json stats, ReadJson(run_dir + "/train_stats.json"));
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
