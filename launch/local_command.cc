#include "launch/local_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/input_files.h"
#include "launch/export_eval.h"
#include "launch/holdout_split.h"
#include "launch/job_control.h"
#include "launch/job_model.h"
#include "launch/local_args.h"
#include "launch/resume_model.h"
#include "scheduler/manifest.h"
#include "common/security/curve_keys.h"
#include "launch/keygen_command.h"
#include "launch/process_group.h"
#include "launch/supervisor.h"
#include "worker/data/format.h"
#include "ps/embedding_table.h"
#include "worker/eval/exported_model.h"
#include "worker/model/model_flags.h"

namespace embedps::launch {
namespace {

using Clock = std::chrono::steady_clock;

// Seconds between checkpoints unless --checkpoint_interval_s is given
// (shorter than the scheduler's 60 s: local jobs are short).
constexpr uint32_t kCheckpointIntervalS = 30;

Status Validate(const LocalOptions& o) {
  const DataSettings& d = o.job.data;
  if (d.train.empty() || (d.test.empty() && !o.hold_out_latest)) {
    return InvalidArgument("--train and --test are required");
  }
  for (const auto& spec : {d.train, d.test}) {
    if (spec.empty()) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(spec));
    for (const auto& f : files) {
      RETURN_IF_ERROR(CheckInputFile(f));
    }
  }
  if (o.servers == 0 || o.servers > 64) return InvalidArgument("--servers must be in 1..64");
  if (o.workers == 0 || o.workers > 64) return InvalidArgument("--workers must be in 1..64");
  if (o.http_port < -1 || o.http_port > 65535) {
    return InvalidArgument("--http_port must be -1 (off), 0 (any free port) or 1..65535");
  }
  if (o.http_enable_mutations && o.http_token_file.empty()) {
    return InvalidArgument("--http_enable_mutations needs --http_token_file");
  }
  return ValidateJobSettings(o.job);
}

bool HasCheckpoint(const std::string& dir);

// The checkpoint directory --resume names: DIR itself when it holds
// checkpoints, or DIR/checkpoints when DIR is a run directory. Checked
// before anything is created, so a mistyped path fails at once and leaves
// nothing behind.
StatusOr<std::string> ResolveResumeDir(const std::string& requested) {
  std::error_code ec;
  if (!std::filesystem::is_directory(requested, ec)) {
    return NotFound("--resume " + requested + ": no such directory");
  }
  if (HasCheckpoint(requested)) return requested;
  const std::string in_run_dir = requested + "/checkpoints";
  if (HasCheckpoint(in_run_dir)) return in_run_dir;
  return NotFound("--resume " + requested + ": no checkpoint there (nor in " + in_run_dir + ")");
}

// Problems that would otherwise show only after training: a summary file
// that cannot be written, a test file in another format than the training
// data.
Status CheckOutputsAndTest(const LocalOptions& o, data::Format format) {
  if (!o.summary_json.empty()) {
    const std::filesystem::path parent = std::filesystem::absolute(o.summary_json).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(parent, ec)) {
      return NotFound("--summary_json " + o.summary_json + ": directory " + parent.string() + " does not exist");
    }
  }
  const DataSettings& d = o.job.data;
  if (d.test.empty() || !d.format.empty()) return Status::OK();
  ASSIGN_OR_RETURN(std::vector<std::string> tests, ExpandInputs(d.test));
  for (const auto& f : tests) {
    auto detected = data::DetectFileFormat(f);
    if (detected.ok() && *detected != format) {
      return InvalidArgument("--test " + f + " looks like " + data::FormatName(*detected) +
                             " data, but the training data is " + data::FormatName(format) +
                             " (give --format to read both as one format)");
    }
  }
  return Status::OK();
}

StatusOr<std::string> MakeRunDir(const std::string& requested, bool resuming) {
  std::error_code ec;
  // Say what happens to an earlier run in the same directory: its model and
  // logs make way for this run's; its checkpoints stay, and are continued
  // only when asked for.
  if (!requested.empty() && !resuming &&
      (std::filesystem::exists(requested + "/model", ec) || std::filesystem::exists(requested + "/logs", ec))) {
    const bool checkpoints = std::filesystem::exists(requested + "/checkpoints", ec);
    std::printf("embedps: --run_dir %s holds an earlier run: its model and logs are replaced%s\n", requested.c_str(),
                checkpoints ? ("; its checkpoints stay (--resume " + requested + " continues from them instead)").c_str()
                            : "");
    std::fflush(stdout);
  }
  ASSIGN_OR_RETURN(std::string dir, MakeJobDir(requested, "embedps-local"));
  std::filesystem::remove_all(dir + "/model", ec);
  return dir;
}

// Waits for the scheduler to publish its endpoint, failing fast if it dies.
StatusOr<std::string> AwaitEndpoint(ProcessGroup& group, const std::string& file) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    std::ifstream in(file);
    std::string endpoint;
    if (in >> endpoint && !endpoint.empty()) return endpoint;
    if (auto exit = group.WaitAny(std::chrono::milliseconds(50))) return DescribeExit(*exit);
    if (Interrupted()) return Aborted("interrupted");
  }
  return DeadlineExceeded("the scheduler did not start listening within 30 s");
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
  // One key per child, named after it and bound to its role.
  const std::vector<security::NodeKeySpec> keys = RoleNodeKeys(o.servers, o.workers, o.standby_servers);
  RETURN_IF_ERROR(security::WriteKeyDirectoryWithRoles(dir, keys));
  std::printf("embedps: CURVE is on: every connection is encrypted and admitted by key (%zu node "
              "keys in %s, each bound to its role)\n",
              keys.size(), dir.c_str());
  return dir;
}

// The --format value, or the format detected from the first training file.
StatusOr<data::Format> JobFormat(const LocalOptions& o) {
  ASSIGN_OR_RETURN(const std::optional<data::Format> requested, data::FormatFromFlag(o.job.data.format));
  if (requested) return *requested;
  ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(o.job.data.train));
  return data::DetectFileFormat(files[0]);
}

// Writes every line of the training files, shuffled, to one file in the run
// directory and returns its path. A header line (ratings.csv) stays first.
StatusOr<std::string> ShuffledCopy(const LocalOptions& o, data::Format format, const std::string& run_dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(o.job.data.train));
  std::vector<std::string> lines;
  std::string header;
  for (const auto& f : files) {
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".gz") == 0) {
      return InvalidArgument("--shuffle needs plain training files; " + f + " is gzip (use --shuffle=false)");
    }
    std::ifstream in(f);
    if (!in) return NotFound("cannot read " + f);
    bool first = true;
    for (std::string line; std::getline(in, line); first = false) {
      if (first && data::IsHeaderLine(format, line)) {
        if (header.empty()) header = line;
        continue;
      }
      if (!line.empty()) lines.push_back(std::move(line));
    }
  }
  std::mt19937_64 rng(o.seed);
  std::shuffle(lines.begin(), lines.end(), rng);
  const std::string path = run_dir + "/train.shuffled";
  std::ofstream out(path);
  if (!header.empty()) out << header << "\n";
  for (const auto& line : lines) out << line << "\n";
  if (!out.flush()) return Unavailable("cannot write " + path);
  return path;
}

// The children of a local job by name, kept so a killed one can be
// started again the same way.
using ChildSpecs = std::map<std::string, ChildSpec>;

// Starts child `name` of `role` (launch/local_args.h).
Status StartNode(const LocalOptions& o, const JobModel& model, const LocalPlacement& p, ProcessGroup& group,
                 ChildSpecs& specs, Role role, const std::string& name) {
  ChildSpec spec{name, o.bin_dir + "/embedps-" + RoleName(role), LocalChildArgs(o, model, p, role, name),
                 p.run_dir + "/logs/" + name + ".log", /*inherit_stdout=*/role == Role::kScheduler};
  specs[name] = spec;
  return group.Start(spec).status();
}

std::string CheckpointDirOf(const LocalOptions& o, const std::string& run_dir) {
  if (!o.checkpoints) return "";
  if (!o.job.checkpoints.dir.empty()) return o.job.checkpoints.dir;
  if (!o.job.checkpoints.resume.empty()) return o.job.checkpoints.resume;
  return run_dir + "/checkpoints";
}

// True when `dir` holds at least one complete checkpoint (a manifest).
bool HasCheckpoint(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (std::filesystem::exists(entry.path() / "MANIFEST.json")) return true;
  }
  return false;
}

// The spec that restarts a killed scheduler: same flags, on the same
// endpoint (the other nodes reconnect to it and rejoin), resuming from the
// newest checkpoint.
StatusOr<ChildSpec> SchedulerRestartSpec(ChildSpec spec, const std::string& checkpoint_dir,
                                         const std::string& endpoint_file) {
  std::ifstream in(endpoint_file);
  std::string endpoint;
  if (!(in >> endpoint)) return Unavailable("cannot read " + endpoint_file);
  spec.args.push_back("--bind=" + endpoint);
  spec.args.push_back("--resume=" + checkpoint_dir);
  return spec;
}

// Waits for the job (SuperviseJob): a server or worker killed from outside
// is started again with the same flags (the scheduler replaces or re-admits
// it); a killed scheduler comes back on its endpoint with --resume once a
// checkpoint exists (the others rejoin it). Any other failure ends the job.
Status Supervise(const LocalOptions& o, ProcessGroup& group, const ChildSpecs& specs,
                 const std::string& checkpoint_dir, const std::string& endpoint_file) {
  SupervisePolicy policy;
  policy.timeout = std::chrono::seconds(o.timeout_s);
  policy.can_recover = !checkpoint_dir.empty();
  policy.restart_failed = o.restart_failed;
  policy.max_restarts = o.max_restarts;
  Restart restart;
  restart.killed = [](const ChildExit& exit) { return exit.signaled; };
  restart.describe = [](const ChildExit& exit) { return DescribeExit(exit); };
  restart.spec = [&](const ChildExit& exit) -> StatusOr<ChildSpec> {
    if (exit.name != "scheduler") return specs.at(exit.name);
    if (!HasCheckpoint(checkpoint_dir)) return FailedPrecondition("no checkpoint to resume the scheduler from");
    return SchedulerRestartSpec(specs.at("scheduler"), checkpoint_dir, endpoint_file);
  };
  return SuperviseJob(group, policy, restart);
}

// Starts every node; returns their names, scheduler first. o.job is the
// job as it runs (RunLocal).
StatusOr<std::vector<std::string>> StartCluster(const LocalOptions& o, const JobModel& model,
                                                const std::string& run_dir, ProcessGroup& group,
                                                ChildSpecs& specs) {
  LocalPlacement p;
  p.run_dir = run_dir;
  p.token = "local-" + std::to_string(getpid()) + "-" + std::to_string(Clock::now().time_since_epoch().count());
  ASSIGN_OR_RETURN(p.key_dir, PrepareKeys(o, run_dir));
  std::fflush(stdout);
  const std::string endpoint_file = run_dir + "/scheduler.endpoint";
  std::filesystem::remove(endpoint_file);
  std::filesystem::remove_all(run_dir + "/http");
  std::filesystem::create_directories(run_dir + "/http");
  std::vector<std::string> names = {"scheduler"};
  RETURN_IF_ERROR(StartNode(o, model, p, group, specs, Role::kScheduler, "scheduler"));
  ASSIGN_OR_RETURN(p.endpoint, AwaitEndpoint(group, endpoint_file));

  // Standbys start last so the first o.servers take the map's ranks.
  for (uint32_t s = 0; s < o.servers + o.standby_servers; ++s) {
    names.push_back((s < o.servers ? "server-" : "standby-") + std::to_string(s));
    RETURN_IF_ERROR(StartNode(o, model, p, group, specs, Role::kServer, names.back()));
    if (s + 1 == o.servers && o.standby_servers > 0) {
      // Admission is in arrival order: let the primaries register first.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  for (uint32_t w = 0; w < o.workers; ++w) {
    names.push_back("worker-" + std::to_string(w));
    RETURN_IF_ERROR(StartNode(o, model, p, group, specs, Role::kWorker, names.back()));
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
    if (Interrupted()) return Aborted("interrupted");
    if (auto exit = group.WaitAny(std::chrono::milliseconds(50)); exit && exit->exit_code != 0) {
      return DescribeExit(*exit);
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

StatusOr<nlohmann::json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + " does not exist");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(path + " is not valid JSON");
  return j;
}

}  // namespace

StatusOr<std::unique_ptr<worker::ExportedModel>> LoadExportedModel(const std::string& dir) {
  ASSIGN_OR_RETURN(worker::ExportedModelInfo info, worker::ReadModelInfo(dir));
  // Keys the model never trained read as the servers would have created them.
  auto tables = std::make_shared<std::vector<std::unique_ptr<ps::EmbeddingTable>>>();
  for (const auto& t : info.tables) {
    ps::TableConfig cfg;
    cfg.id = t.id;
    cfg.name = t.name;
    cfg.dim = t.dim;
    ASSIGN_OR_RETURN(cfg.init, ps::ParseInitializer(t.initializer));
    cfg.init_scale = t.init_scale;
    cfg.seed = t.seed;
    ASSIGN_OR_RETURN(auto table, ps::EmbeddingTable::Create(cfg));
    tables->push_back(std::move(table));
  }
  return worker::ExportedModel::Load(dir, [tables](size_t t, uint64_t key, float* out) {
    (*tables)[t]->InitialValue(key, out);
  });
}

Status RunLocal(const LocalOptions& options) {
  LocalOptions o = options;
  RETURN_IF_ERROR(Validate(o));
  CheckpointSettings& ckpt = o.job.checkpoints;
  if (ckpt.resume == "auto") {
    // Resume the run directory's (or --checkpoint_dir's) checkpoints when
    // there are any, else train from the start: a command a scheduler of
    // jobs can simply run again.
    if (o.run_dir.empty() && ckpt.dir.empty()) {
      return InvalidArgument("--resume=auto needs --run_dir or --checkpoint_dir (where to look for checkpoints)");
    }
    const std::string dir = ckpt.dir.empty() ? o.run_dir + "/checkpoints" : ckpt.dir;
    ckpt.resume = HasCheckpoint(dir) ? dir : "";
    std::printf("embedps: --resume=auto: %s\n",
                ckpt.resume.empty() ? ("no checkpoint in " + dir + "; starting a new job").c_str()
                                    : ("resuming from " + dir).c_str());
  } else if (!ckpt.resume.empty()) {
    ASSIGN_OR_RETURN(ckpt.resume, ResolveResumeDir(ckpt.resume));
  }
  // A resumed job trains the checkpoint's model: the model flags left unset
  // take its values, and ones set to another model are refused below.
  nlohmann::json checkpoint_model;
  if (!ckpt.resume.empty()) {
    ASSIGN_OR_RETURN(checkpoint_model, CheckpointModel(ckpt.resume));
    RETURN_IF_ERROR(AdoptCheckpointModel(checkpoint_model, &o.job));
  }
  ASSIGN_OR_RETURN(const data::Format format, JobFormat(o));
  RETURN_IF_ERROR(AdoptRatingRange(o.job.data.train, format, o.job.data.max_bad_line_fraction));
  ASSIGN_OR_RETURN(const JobModel model, BuildJobModel(format, o.job.data.train));
  const worker::ModelSpec& spec = model.spec;
  RETURN_IF_ERROR(scheduler::CheckSameModel(
                      checkpoint_model, worker::ModelInfoJson(ModelInfo(model, nlohmann::json::object())))
                      .WithContext("--resume " + ckpt.resume));
  RETURN_IF_ERROR(CheckEvalSettings(o.job, spec));
  RETURN_IF_ERROR(CheckOutputsAndTest(o, format));
  ASSIGN_OR_RETURN(const std::string run_dir, MakeRunDir(o.run_dir, !ckpt.resume.empty()));
  DataSettings& data = o.job.data;
  if (data.test.empty()) {
    ASSIGN_OR_RETURN(const HoldoutSplit split, SplitLatestPerUser(data.train, format, run_dir));
    std::printf("embedps: no --test: held out the latest interaction of each user (%llu rows) as %s, "
                "training on the other %llu in %s\n",
                static_cast<unsigned long long>(split.test_lines), split.test.c_str(),
                static_cast<unsigned long long>(split.train_lines), split.train.c_str());
    data.train = split.train;
    data.test = split.test;
  }
  // The job as it runs here: export (unless --model_dir says where) and
  // checkpoints in the run directory.
  const std::string model_dir = o.job.model_dir.empty() ? run_dir + "/model" : o.job.model_dir;
  o.job.model_dir = model_dir;
  ckpt.dir = CheckpointDirOf(o, run_dir);
  if (!ckpt.interval_s) ckpt.interval_s = kCheckpointIntervalS;
  InstallInterruptHandler();
  // Models with an MLP say which precision its products run in.
  const std::string dense = spec.hidden.empty() ? ""
                                                : std::string(" (dense layers in ") +
                                                      worker::DensePrecisionName(model.dense_precision) + ")";
  std::printf("embedps: local cluster with %u servers and %u workers; model %s%s on %s data; logs in %s/logs\n",
              o.servers, o.workers, spec.model.c_str(), dense.c_str(), data::FormatName(format), run_dir.c_str());
  std::fflush(stdout);
  const auto wall_start = Clock::now();
  std::map<std::string, std::string> urls;
  {
    ProcessGroup group;
    // The scheduler may read a shuffled copy; the export keeps data.train.
    LocalOptions cluster = o;
    if (o.shuffle) {
      ASSIGN_OR_RETURN(cluster.job.data.train, ShuffledCopy(o, format, run_dir));
    }
    ChildSpecs specs;
    auto names = StartCluster(cluster, model, run_dir, group, specs);
    Status st = names.status();
    if (st.ok() && o.http_port != -1) {
      auto got = AwaitUrls(group, run_dir, *names);
      st = got.status();
      if (st.ok()) urls = std::move(got).value();
    }
    if (st.ok()) PrintEndpoints(run_dir, *names, urls);
    if (st.ok()) st = Supervise(o, group, specs, ckpt.dir, run_dir + "/scheduler.endpoint");
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
  RETURN_IF_ERROR(WriteExportInteractions(model_dir, data.train, format, data.max_bad_line_fraction));
  std::printf("embedps: evaluating on %s\n", data.test.c_str());
  std::fflush(stdout);
  nlohmann::json summary = stats;
  ASSIGN_OR_RETURN(const std::string metrics,
                   EvaluateExport({model_dir, data.test, format, model.side.get(), data.max_bad_line_fraction}, &summary));
  summary["model"] = spec.model;
  summary["model_dir"] = model_dir;
  summary["format"] = data::FormatName(format);
  if (!spec.hidden.empty()) summary["dense_precision"] = worker::DensePrecisionName(model.dense_precision);
  summary["wall_seconds"] = std::chrono::duration<double>(Clock::now() - wall_start).count();
  summary["run_dir"] = run_dir;
  summary["log_dir"] = run_dir + "/logs";
  if (!urls.empty()) {
    summary["dashboard_url"] = urls["scheduler"] + "/";
    nlohmann::json metrics_urls = nlohmann::json::object();
    for (const auto& [name, url] : urls) metrics_urls[name] = url + "/metrics";
    summary["metrics_urls"] = metrics_urls;
  }
  std::printf("embedps: %s on %llu rows; %.0f training rows/s\n", metrics.c_str(),
              static_cast<unsigned long long>(summary.value("test_rows", uint64_t{0})),
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
