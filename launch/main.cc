// embedps: the command-line front end. `embedps help` lists the commands
// and `embedps help COMMAND` shows one's flags (launch/cli_help.cc).
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "common/build_info.h"
#include "common/flags/parse_flags.h"
#include "common/allocator_tuning.h"
#include <nlohmann/json.hpp>

#include "datagen/criteo_generator.h"
#include "launch/bench/checkpoint_bench.h"
#include "launch/bench/memory_bench.h"
#include "launch/bench/parse_bench.h"
#include "launch/bench/pushpull_bench.h"
#include "launch/cli_help.h"
#include "launch/export_command.h"
#include "launch/export_eval.h"
#include "launch/job_settings.h"
#include "launch/keygen_command.h"
#include "launch/local_command.h"
#include "launch/predict_command.h"
#include "launch/recommend_command.h"
#include "launch/ssh_command.h"
#include "launch/status_command.h"
#include "ps/server.h"
#include "worker/data/format.h"
#include "worker/eval/model_side_features.h"
#include "worker/model/model_flags.h"

DEFINE_string(file, "", "bench parse: the file(s) to read (a file, comma-separated files or a glob)");
DEFINE_int32(servers, 2, "local: number of servers");
DEFINE_int32(workers, 2, "local: number of workers");
DECLARE_string(model);  // worker/model/model_flags.cc
// The job flags of local, ssh and node-flags (launch/job_settings.cc); some
// other commands read these too.
DECLARE_string(train);
DECLARE_string(test);
DECLARE_string(format);
DECLARE_int32(batch_size);
DECLARE_string(optimizer);
DECLARE_double(max_bad_line_fraction);
DECLARE_string(model_dir);
DECLARE_int32(replicas);
DEFINE_bool(shuffle, false,
            "local: train on a shuffled copy of the training files and shuffle partitions every pass "
            "(default on for mf, hybrid and ncf)");
DEFINE_string(summary_json, "", "local, eval: write a JSON summary here");
DEFINE_string(run_dir, "", "local: directory for logs and the model (default: a new /tmp dir)");
DEFINE_double(timeout_s, 3600,
             "local: give up after this many seconds; status, stop, checkpoint: give up on an unreachable scheduler "
             "after this many (default there: 5)");
DEFINE_string(node_flags, "", "local, ssh: extra flags for every daemon, space-separated (e.g. --flagfile=/etc/embedps/job.flags); they come last and win");
DEFINE_string(scheduler_flags, "", "local, ssh: extra flags for the scheduler");
DEFINE_string(server_flags, "", "local, ssh: extra flags for every server");
DEFINE_string(worker_flags, "", "local, ssh: extra flags for every worker");
DEFINE_string(hostfile, "", "ssh: file of 'host role count' lines (see launch/hostfile.h)");
DEFINE_string(remote_dir, "", "ssh: directory on every host for pid files and statistics (default /tmp/embedps-<job id>)");
DEFINE_string(remote_bin_dir, "", "ssh: directory holding embedps-scheduler/-server/-worker on every host (default: this binary's directory)");
DEFINE_string(ssh, "ssh", "ssh: the ssh client");
DEFINE_string(ssh_options, "", "ssh: extra ssh options, space-separated (e.g. \"-F ~/.ssh/cluster_config\")");
DEFINE_string(bind_host, "0.0.0.0", "ssh: interface the scheduler and servers listen on");
DEFINE_int32(base_port, 29500, "ssh: the k-th node on a host listens on base_port + k");
DEFINE_int32(http_base_port, -1, "ssh: the k-th node on a host gets --http_port=http_base_port + k; -1: do not pass HTTP flags");
DEFINE_int64(rows, 0, "gen-criteo: rows to write; bench memory, checkpoint: rows in the table (bench checkpoint: 0 means 2000000)");
DEFINE_uint64(seed, 1, "gen-criteo: seed that picks the rows");
DEFINE_uint64(model_seed, 20261125, "gen-criteo: seed that picks the planted model");
DEFINE_bool(force, false,
            "gen-criteo: write --out even when it exists and holds other data (the same data is kept without it)");
DEFINE_string(out, "", "gen-criteo: output file; export: the model's new directory; predict: write the scores here, one per line (default: stdout); keygen: key directory");
DEFINE_string(from, "", "export: a run directory of embedps local (its model/) or a model directory");
DEFINE_string(input, "", "predict: data to score: a file, comma-separated files or a glob; plain or gzip");
DEFINE_string(output, "", "predict: deprecated, use --out");
DEFINE_string(user, "", "recommend: the user id to recommend for");
DEFINE_int32(k, 10, "recommend: how many items");
DEFINE_int32(serve, -1, "recommend: deprecated, use embedps serve --http_port PORT");
DEFINE_string(bind, "127.0.0.1", "recommend --serve: deprecated, use --http_bind");
DEFINE_string(keys, "10000", "bench pushpull: unique keys per request, comma-separated list");
DEFINE_string(dim, "16", "bench: row dimension(s), comma-separated list");
DEFINE_double(seconds, 3, "bench pushpull: seconds per timed phase");
DEFINE_int32(depth, 4, "bench pushpull: requests in flight per worker");
DEFINE_int32(server_threads, 0, "bench pushpull: handler threads per server; 0: half the cores");
DEFINE_int32(repeat, 1, "bench pushpull, parse, checkpoint: timed runs per configuration (medians are reported)");
DEFINE_bool(json, false, "bench: print one JSON object per line; status: print the status as JSON; recommend: print the answer as JSON");
DEFINE_bool(fp16, false, "bench memory, checkpoint: store weights as fp16");
DEFINE_string(bench_dir, "", "bench checkpoint: directory to write the checkpoint and the dd reference file in (default: a new directory under $TMPDIR or /tmp, removed afterwards)");
DEFINE_bool(curve, false,
            "local: generate CURVE keys into the run directory and encrypt and authenticate all "
            "cluster traffic; bench pushpull: run with CURVE on");
DEFINE_bool(replicas_compare, false,
            "bench pushpull: run every configuration with one copy of the rows, then two (--replicas=2), "
            "and report the ratio");
DEFINE_bool(curve_compare, false,
            "bench pushpull: run every configuration with CURVE off and on and report the ratio");
DEFINE_int32(nodes, 0,
             "keygen: write N node keypairs node-0 .. node-N-1 that admit any role (default: "
             "role-bound keys server-0.. and worker-0.. from --servers and --workers)");
DEFINE_string(add, "", "keygen: add one node keypair with this name to an existing --out DIR");
DEFINE_string(role, "",
              "keygen --add: the role the new key admits: scheduler, server, worker, client or any; "
              "node-flags: scheduler, server or worker");
DEFINE_bool(insecure, false,
            "ssh: run the job without CURVE (cluster traffic unencrypted and unauthenticated); "
            "prints a warning");
// ssh: the key directory from `embedps keygen --servers S --workers W`, at
// this path on every host (required unless --insecure). Defined with the
// daemons' flags (common/flags/node_flags.cc), which this binary links.
DECLARE_string(curve_dir);
DEFINE_bool(raw_tcp_reference, false,
            "bench pushpull: after each configuration, time the same round trips over one plain loopback "
            "TCP connection (nothing done to the bytes) and report push+pull as a ratio of that ceiling");
DEFINE_bool(null_store, false,
            "bench pushpull: reference run whose servers skip their tables (transport ceiling)");
DEFINE_int32(timeout_ms, 5000, "status, stop, checkpoint: deprecated, use --timeout_s");
DEFINE_bool(checkpoints, true, "local: take checkpoints and recover from dead servers and workers");
DEFINE_int32(standby_servers, 0, "local: spare servers that take over the rank of a dead server; keygen: keys for them (standby-S ..)");
DEFINE_bool(restart_failed, true, "local, ssh (with --checkpoint_dir): restart a scheduler, server or worker killed from outside (it rejoins the job)");
DEFINE_string(token_file, "", "stop: file with the bearer token of the scheduler's --http_token_file");
// Shared with the daemons (common/flags/node_flags.cc). local passes them
// on; status and stop take the scheduler's HTTP address in --scheduler.
DECLARE_string(scheduler);
DECLARE_int32(http_port);
DECLARE_string(http_bind);
DECLARE_bool(http_enable_mutations);
DECLARE_string(http_token_file);

namespace {


std::string BinDir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  return std::filesystem::path(buf).parent_path().string();
}

embedps::Status CheckRange(const char* flag, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return embedps::InvalidArgument(std::string("--") + flag + " must be in " + std::to_string(lo) +
                                    ".." + std::to_string(hi) + ", got " + std::to_string(value));
  }
  return embedps::Status::OK();
}

embedps::StatusOr<embedps::launch::ExtraFlags> ExtraFlagsFromFlags() {
  return embedps::launch::ParseExtraFlags(FLAGS_node_flags, FLAGS_scheduler_flags, FLAGS_server_flags,
                                          FLAGS_worker_flags);
}

// What `local` and `ssh` read alike: the job (launch/job_settings.h), the
// pass-through flags, the summary file and the timeout.
template <typename Options>
embedps::Status SetLauncherOptions(Options& o) {
  ASSIGN_OR_RETURN(o.job, embedps::launch::JobSettingsFromFlags());
  ASSIGN_OR_RETURN(o.extra, ExtraFlagsFromFlags());
  if (!(FLAGS_timeout_s >= 1 && FLAGS_timeout_s <= (1 << 30))) {
    return embedps::InvalidArgument("--timeout_s must be in 1..1073741824 for local and ssh");
  }
  o.summary_json = FLAGS_summary_json;
  o.timeout_s = static_cast<uint32_t>(std::ceil(FLAGS_timeout_s));
  return embedps::Status::OK();
}

embedps::Status RunLocalCommand() {
  RETURN_IF_ERROR(CheckRange("servers", FLAGS_servers, 1, 64));
  RETURN_IF_ERROR(CheckRange("workers", FLAGS_workers, 1, 64));
  embedps::launch::LocalOptions o;
  RETURN_IF_ERROR(SetLauncherOptions(o));
  // Explicit ratings are a small data set trained for many epochs in small
  // batches; these are the settings docs/results.md measures.
  const std::string model = FLAGS_model;
  o.shuffle = FLAGS_shuffle;
  if (model == "mf" || model == "hybrid" || model == "ncf") {
    if (!embedps::worker::FlagWasSet("shuffle")) o.shuffle = true;
  }
  o.hold_out_latest = model == "ncf" && o.job.data.test.empty();
  if (model == "ncf" && !embedps::worker::FlagWasSet("passes")) o.job.training.passes = 20;
  if (model == "mf" || model == "hybrid") {
    if (!embedps::worker::FlagWasSet("passes")) o.job.training.passes = 20;
    if (!embedps::worker::FlagWasSet("batch_size")) o.job.training.batch_size = 32;
  }
  o.servers = FLAGS_servers;
  o.workers = FLAGS_workers;
  o.run_dir = FLAGS_run_dir;
  o.bin_dir = BinDir();
  o.http_port = FLAGS_http_port;
  o.http_bind = FLAGS_http_bind;
  o.http_enable_mutations = FLAGS_http_enable_mutations;
  o.http_token_file = FLAGS_http_token_file;
  o.curve = FLAGS_curve;
  RETURN_IF_ERROR(CheckRange("standby_servers", FLAGS_standby_servers, 0, 64));
  o.checkpoints = FLAGS_checkpoints;
  o.standby_servers = FLAGS_standby_servers;
  if (o.job.replicas == 2 && FLAGS_servers < 2) {
    return embedps::InvalidArgument("--replicas=2 needs --servers >= 2: a server's copy lives on another server");
  }
  if (o.job.replicas == 2 && !FLAGS_checkpoints) {
    return embedps::InvalidArgument("--replicas=2 needs --checkpoints: a dead server's rows are handed over in files "
                                    "under the checkpoint directory");
  }
  o.restart_failed = FLAGS_restart_failed;
  if (!o.job.checkpoints.resume.empty() && !o.checkpoints) {
    return embedps::InvalidArgument("--resume needs --checkpoints");
  }
  return embedps::launch::RunLocal(o);
}

embedps::Status RunSshCommand() {
  RETURN_IF_ERROR(CheckRange("base_port", FLAGS_base_port, 1, 65535));
  RETURN_IF_ERROR(CheckRange("http_base_port", FLAGS_http_base_port, -1, 65535));
  embedps::launch::SshOptions o;
  RETURN_IF_ERROR(SetLauncherOptions(o));
  o.hostfile = FLAGS_hostfile;
  o.job_dir = FLAGS_run_dir;
  o.remote_dir = FLAGS_remote_dir;
  o.remote_bin_dir = FLAGS_remote_bin_dir.empty() ? BinDir() : FLAGS_remote_bin_dir;
  o.ssh = FLAGS_ssh;
  o.curve_dir = FLAGS_curve_dir;
  o.insecure = FLAGS_insecure;
  o.ssh_options = embedps::launch::SplitWords(FLAGS_ssh_options);
  o.bind_host = FLAGS_bind_host;
  o.ports.base_port = FLAGS_base_port;
  o.ports.http_base_port = FLAGS_http_base_port;
  o.http_bind = FLAGS_http_bind;
  o.restart_failed = FLAGS_restart_failed;
  return embedps::launch::RunSsh(o);
}

bool EndsWith(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// node-flags prints the job's flags only, so a launcher or daemon flag given
// to it would be dropped without a word (e.g. one the Slurm script passes
// on): it is refused. Job and model flags are defined elsewhere
// (launch/job_settings.cc, worker/model/model_flags.cc).
embedps::Status RefuseNonJobFlags() {
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  for (const auto& f : flags) {
    if (f.is_default || f.name == "role") continue;
    if (EndsWith(f.filename, "launch/main.cc") || EndsWith(f.filename, "common/flags/node_flags.cc")) {
      return embedps::InvalidArgument("--" + f.name +
                                      " is not a job setting (node-flags takes the job and model flags; daemon "
                                      "flags go in a launcher's --node_flags or --*_flags)");
    }
  }
  return embedps::Status::OK();
}

// Prints the job flags of a --role (embedps::launch::JobNodeFlags).
embedps::Status RunNodeFlagsCommand() {
  RETURN_IF_ERROR(RefuseNonJobFlags());
  ASSIGN_OR_RETURN(const auto job, embedps::launch::JobSettingsFromFlags());
  ASSIGN_OR_RETURN(auto flags, embedps::launch::JobNodeFlags(job, FLAGS_role));
  for (const auto& f : flags) std::printf("%s\n", f.c_str());
  return embedps::Status::OK();
}

embedps::Status RunGenCommand() {
  if (FLAGS_out.empty()) return embedps::InvalidArgument("--out is required");
  RETURN_IF_ERROR(CheckRange("rows", FLAGS_rows, 1, int64_t{1} << 40));
  embedps::datagen::CriteoGeneratorOptions o;
  o.rows = FLAGS_rows;
  o.seed = FLAGS_seed;
  o.model_seed = FLAGS_model_seed;
  o.out = FLAGS_out;
  // An existing file is kept when it is what this command would write, so
  // scripts can run it every time; another file is not overwritten without
  // --force.
  if (!FLAGS_force) {
    ASSIGN_OR_RETURN(const auto existing, embedps::datagen::ExistingCriteo(o));
    if (existing) {
      std::printf("embedps: %s already holds these %llu rows (seed %llu; positive rate %.4f, oracle AUC %.4f): "
                  "kept (--force writes it again)\n",
                  o.out.c_str(), static_cast<unsigned long long>(existing->rows),
                  static_cast<unsigned long long>(o.seed), existing->positive_rate, existing->oracle_auc);
      return embedps::Status::OK();
    }
  }
  ASSIGN_OR_RETURN(auto result, embedps::datagen::GenerateCriteo(o));
  std::printf("embedps: wrote %llu rows to %s in %.1f s (positive rate %.4f, oracle AUC %.4f, "
              "oracle logloss %.4f; oracle AUC of the linear part alone %.4f, of linear + "
              "pairwise %.4f)\n",
              static_cast<unsigned long long>(result.rows), o.out.c_str(), result.seconds,
              result.positive_rate, result.oracle_auc, result.oracle_logloss,
              result.oracle_auc_linear_part, result.oracle_auc_without_deep_part);
  return embedps::Status::OK();
}

embedps::StatusOr<std::vector<uint32_t>> ParseList(const char* flag, const std::string& text) {
  std::vector<uint32_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    char* stop = nullptr;
    const unsigned long v = std::strtoul(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || v == 0 || v > 0xffffffffUL) {
      return embedps::InvalidArgument(std::string("--") + flag + " must be a comma-separated list of positive integers, got '" + text + "'");
    }
    out.push_back(static_cast<uint32_t>(v));
    start = end + 1;
  }
  return out;
}

embedps::Status RunBenchCommand(const std::string& which) {
  ASSIGN_OR_RETURN(auto dims, ParseList("dim", FLAGS_dim));
  if (which == "memory") {
    embedps::launch::MemoryBenchOptions o;
    if (FLAGS_rows <= 0) return embedps::InvalidArgument("--rows must be >= 1");
    o.rows = static_cast<uint64_t>(FLAGS_rows);
    o.dim = dims[0];
    o.optimizer = FLAGS_optimizer;
    o.fp16 = FLAGS_fp16;
    o.json = FLAGS_json;
    return embedps::launch::RunMemoryBench(o);
  }
  if (which == "parse") {
    RETURN_IF_ERROR(CheckRange("repeat", FLAGS_repeat, 1, 100));
    RETURN_IF_ERROR(CheckRange("batch_size", FLAGS_batch_size, 1, 1 << 20));
    embedps::launch::ParseBenchOptions o;
    o.files = FLAGS_file;
    o.format = FLAGS_format;
    o.repeat = FLAGS_repeat;
    o.batch_size = FLAGS_batch_size;
    o.json = FLAGS_json;
    return embedps::launch::RunParseBench(o);
  }
  if (which == "checkpoint") {
    RETURN_IF_ERROR(CheckRange("rows", FLAGS_rows, 0, (int64_t{1} << 32) - 1));
    RETURN_IF_ERROR(CheckRange("repeat", FLAGS_repeat, 1, 100));
    embedps::launch::CheckpointBenchOptions o;
    if (FLAGS_rows > 0) o.rows = static_cast<uint64_t>(FLAGS_rows);
    o.dim = dims[0];
    o.optimizer = FLAGS_optimizer;
    o.fp16 = FLAGS_fp16;
    o.dir = FLAGS_bench_dir;
    o.repeat = FLAGS_repeat;
    o.json = FLAGS_json;
    return embedps::launch::RunCheckpointBench(o);
  }
  if (which != "pushpull") {
    return embedps::InvalidArgument("unknown benchmark '" + which +
                                    "' (expected pushpull, memory, parse or checkpoint)");
  }
  RETURN_IF_ERROR(CheckRange("servers", FLAGS_servers, 1, 64));
  RETURN_IF_ERROR(CheckRange("workers", FLAGS_workers, 1, 64));
  RETURN_IF_ERROR(CheckRange("depth", FLAGS_depth, 1, 1024));
  RETURN_IF_ERROR(CheckRange("repeat", FLAGS_repeat, 1, 100));
  embedps::launch::PushPullBenchOptions o;
  o.servers = FLAGS_servers;
  o.workers = FLAGS_workers;
  ASSIGN_OR_RETURN(o.keys, ParseList("keys", FLAGS_keys));
  o.dims = dims;
  o.seconds = FLAGS_seconds;
  o.depth = FLAGS_depth;
  o.optimizer = FLAGS_optimizer;
  ASSIGN_OR_RETURN(o.server_threads, embedps::ps::HandlerThreadsFromFlag(FLAGS_server_threads));
  o.repeat = FLAGS_repeat;
  o.json = FLAGS_json;
  o.null_store = FLAGS_null_store;
  o.raw_tcp_reference = FLAGS_raw_tcp_reference;
  o.curve = FLAGS_curve;
  o.curve_compare = FLAGS_curve_compare;
  o.replicas = static_cast<uint32_t>(FLAGS_replicas);
  o.replicas_compare = FLAGS_replicas_compare;
  return embedps::launch::RunPushPullBench(o);
}

// A deprecated spelling was given: says what replaces it. The old
// spellings work for one release.
bool Deprecated(const char* old_flag, const char* instead) {
  if (!embedps::worker::FlagWasSet(old_flag)) return false;
  std::fprintf(stderr, "embedps: warning: --%s is deprecated and goes away in the next release: use %s\n", old_flag,
               instead);
  return true;
}

// status and stop report through exit codes of their own (see
// launch/status_command.h).
int RunClusterCommand(const std::string& command) {
  int64_t timeout_ms = 5000;
  if (embedps::worker::FlagWasSet("timeout_s")) {
    timeout_ms = std::llround(FLAGS_timeout_s * 1000);
  } else if (Deprecated("timeout_ms", "--timeout_s")) {
    timeout_ms = FLAGS_timeout_ms;
  }
  if (timeout_ms <= 0) {
    std::fprintf(stderr, "embedps %s: error: --timeout_s must be > 0\n", command.c_str());
    return embedps::launch::kExitUsage;
  }
  embedps::launch::CliOptions o;
  o.scheduler = FLAGS_scheduler;
  o.timeout = std::chrono::milliseconds(timeout_ms);
  o.json = FLAGS_json;
  o.token_file = FLAGS_token_file;
  if (command == "status") return embedps::launch::RunStatusCommand(o);
  if (command == "checkpoint") return embedps::launch::RunCheckpointCommand(o);
  return embedps::launch::RunStopCommand(o);
}

embedps::Status RunEvalCommand() {
  if (FLAGS_model_dir.empty() || FLAGS_test.empty()) {
    return embedps::InvalidArgument("--model_dir and --test are required");
  }
  ASSIGN_OR_RETURN(const auto format, embedps::data::FormatFromFlag(FLAGS_format));
  ASSIGN_OR_RETURN(auto side, embedps::worker::SideFeaturesForModelDir(FLAGS_model_dir));
  nlohmann::json j = nlohmann::json::object();
  ASSIGN_OR_RETURN(const std::string line,
                   embedps::launch::EvaluateExport({FLAGS_model_dir, FLAGS_test, format, side.get(),
                                                    FLAGS_max_bad_line_fraction},
                                                   &j));
  std::printf("embedps: %s on %llu rows (model has %llu rows)\n", line.c_str(),
              static_cast<unsigned long long>(j.value("test_rows", uint64_t{0})),
              static_cast<unsigned long long>(j.value("model_rows", uint64_t{0})));
  if (!FLAGS_summary_json.empty()) {
    std::ofstream out(FLAGS_summary_json);
    out << j.dump(2) << "\n";
    if (!out) return embedps::Unavailable("cannot write " + FLAGS_summary_json);
  }
  return embedps::Status::OK();
}

// predict, recommend and serve take the model directory as --model_dir
// (--model DIR: deprecated, --model names the model type elsewhere).
std::string ModelDirFlag() {
  if (FLAGS_model_dir.empty() && Deprecated("model", "--model_dir for a model directory")) return FLAGS_model;
  return FLAGS_model_dir;
}

embedps::Status RunPredictCommand() {
  embedps::launch::PredictOptions o;
  o.model_dir = ModelDirFlag();
  o.input = FLAGS_input;
  o.output = FLAGS_out;
  if (Deprecated("output", "--out")) {
    if (embedps::worker::FlagWasSet("out") && FLAGS_out != FLAGS_output) {
      return embedps::InvalidArgument("--out and --output disagree (--output is the old spelling of --out)");
    }
    o.output = FLAGS_output;
  }
  o.format = FLAGS_format;
  o.max_bad_line_fraction = FLAGS_max_bad_line_fraction;
  ASSIGN_OR_RETURN(auto side, embedps::worker::SideFeaturesForModelDir(o.model_dir));
  return embedps::launch::RunPredict(o, side.get());
}

// recommend answers once; serve (or the deprecated recommend --serve PORT)
// answers over HTTP on --http_port and --http_bind.
embedps::Status RunRecommendCommand(bool serve) {
  embedps::launch::RecommendOptions o;
  o.model_dir = ModelDirFlag();
  o.user = FLAGS_user;
  o.k = std::to_string(FLAGS_k);
  o.json = FLAGS_json;
  o.bind = FLAGS_http_bind;
  if (serve) {
    RETURN_IF_ERROR(CheckRange("http_port", FLAGS_http_port, 0, 65535));
    o.serve_port = FLAGS_http_port;
    o.user.clear();
  } else if (Deprecated("serve", "embedps serve --http_port PORT")) {
    RETURN_IF_ERROR(CheckRange("serve", FLAGS_serve, -1, 65535));
    o.serve_port = FLAGS_serve;
  }
  if (Deprecated("bind", "--http_bind")) o.bind = FLAGS_bind;
  o.train = FLAGS_train;
  o.format = FLAGS_format;
  o.max_bad_line_fraction = FLAGS_max_bad_line_fraction;
  ASSIGN_OR_RETURN(auto side, embedps::worker::SideFeaturesForModelDir(o.model_dir));
  return embedps::launch::RunRecommend(o, side.get());
}

}  // namespace

// `embedps CMD --help` (or -h, -help) shows CMD's page and `embedps --help`
// the command list, instead of gflags' list of every flag (--helpfull).
// Returns the exit code when it printed help.
std::optional<int> HandleHelp(int argc, char** argv) {
  const std::string command = argc >= 2 ? argv[1] : "";
  if (command == "help") {
    if (argc == 2) {
      std::printf("%s", embedps::launch::CommandList().c_str());
      return 0;
    }
    const std::string page = embedps::launch::CommandHelp(argv[2]);
    if (page.empty()) {
      std::fprintf(stderr, "embedps: error: no command '%s'\n%s", argv[2], embedps::launch::CommandList().c_str());
      return 2;
    }
    std::printf("%s", page.c_str());
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg != "--help" && arg != "-help" && arg != "-h" && arg != "--h") continue;
    const std::string page = embedps::launch::CommandHelp(command);
    std::printf("%s", page.empty() ? embedps::launch::CommandList().c_str() : page.c_str());
    return 0;
  }
  return std::nullopt;
}

int main(int argc, char** argv) {
  if (const std::optional<int> code = HandleHelp(argc, argv)) return *code;
  gflags::SetUsageMessage(embedps::launch::CommandList());
  gflags::SetVersionString(embedps::VersionString());
  embedps::ParseFlagsOrExit(&argc, &argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  embedps::KeepLargeBuffersOnHeap();
  const std::string command = argc >= 2 ? argv[1] : "";
  if (argc != (command == "bench" ? 3 : 2)) {
    std::fprintf(stderr, "embedps: error: expected one command (and for bench, its kind)\n%s",
                 embedps::launch::CommandList().c_str());
    return 2;
  }
  embedps::Status st;
  if (command == "status" || command == "stop" || command == "checkpoint") return RunClusterCommand(command);
  if (command == "bench") {
    FLAGS_minloglevel = std::max(FLAGS_minloglevel, 1);  // the figures, not the cluster's chatter
    st = RunBenchCommand(argv[2]);
  } else if (command == "local") {
    st = RunLocalCommand();
  } else if (command == "ssh") {
    st = RunSshCommand();
  } else if (command == "gen-criteo") {
    st = RunGenCommand();
  } else if (command == "eval") {
    st = RunEvalCommand();
  } else if (command == "export") {
    st = embedps::launch::RunExport(FLAGS_from, FLAGS_out);
  } else if (command == "predict") {
    st = RunPredictCommand();
  } else if (command == "recommend" || command == "serve") {
    st = RunRecommendCommand(command == "serve");
  } else if (command == "node-flags") {
    st = RunNodeFlagsCommand();
  } else if (command == "keygen") {
    embedps::launch::KeygenOptions o;
    o.out = FLAGS_out;
    o.nodes = static_cast<uint32_t>(std::max(0, FLAGS_nodes));
    o.servers = static_cast<uint32_t>(std::max(0, FLAGS_servers));
    o.workers = static_cast<uint32_t>(std::max(0, FLAGS_workers));
    o.standby_servers = static_cast<uint32_t>(std::max(0, FLAGS_standby_servers));
    o.add = FLAGS_add;
    o.add_role = FLAGS_role;
    st = embedps::launch::RunKeygen(o);
  } else {
    std::fprintf(stderr, "embedps: error: unknown command '%s'\n%s", command.c_str(),
                 embedps::launch::CommandList().c_str());
    return 2;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "embedps %s: error: %s\n", command.c_str(), st.message().c_str());
    return embedps::IsUsageError(st) ? embedps::kExitUsageError : 1;
  }
  return 0;
}
