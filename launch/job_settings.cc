#include "launch/job_settings.h"

#include <cmath>
#include <charconv>

#include <gflags/gflags.h>

#include "worker/data/format.h"
#include "worker/model/model_flags.h"

// The job flags of `embedps local`, `ssh` and `node-flags` (the Slurm
// script's, too), under the daemons' names. Some other commands read a few
// of them (eval: --test, --format; bench: --batch_size, ...), so they are
// defined here, once, and declared where used.
DEFINE_string(train, "",
              "local, ssh, node-flags: training data, a file, comma-separated files or a glob, plain or gzip; ssh: a "
              "path valid on every worker's host; recommend, serve: rating files whose interactions replace the "
              "model's interactions.tsv");
DEFINE_string(test, "",
              "local, eval: test data, a file, comma-separated files or a glob, plain or gzip; ssh: the same, read "
              "here after the job, with --model_dir");
DEFINE_string(validation, "",
              "local, ssh, node-flags: held-out data the periodic evaluation (--eval_every_s, --eval_every_rows) "
              "scores instead of --test, so that watching it or choosing by it does not overstate the test result "
              "(a file, comma-separated files or a glob)");
DEFINE_bool(keep_best, false,
            "local, ssh, node-flags: export the model of the best periodic evaluation on --validation when the "
            "final one is worse (another pass can make a model worse); the servers write a snapshot at each best");
DEFINE_string(format, "",
              "local, ssh, node-flags, eval, predict, recommend, serve, bench parse: input format (criteo, criteo-unlabeled, movielens, movielens-dat, csv, "
              "movielens-csv, libsvm); default: detected from the file name and first line");
DEFINE_int32(passes, 1, "local, ssh, node-flags: passes over the training data");
DEFINE_int32(batch_size, 1000, "local, ssh, node-flags, bench parse: examples per minibatch (fm: 250, deepfm: 500; local mf, hybrid: 32)");
DEFINE_int32(prefetch, 1, "local, ssh, node-flags: batches whose rows each worker pulls ahead (0: none; fm, deepfm: 0)");
DEFINE_int32(dense_pull_every, 1,
             "local, ssh, node-flags: workers pull the dense tables (MLP weights of deepfm, ncf) in one batch of "
             "this many and reuse that copy in between (deepfm: 4)");
DEFINE_int32(dense_push_every, 1,
             "local, ssh, node-flags: workers sum the dense tables' gradients over this many batches and push "
             "them as one, so the MLP steps at batch K x batch_size while embeddings step every batch (deepfm: 4)");
DEFINE_int32(max_staleness, -1,
             "local, ssh, node-flags: bounded staleness: a worker's clock (batches trained) stays at most this many "
             "ahead of the slowest worker's; 0: BSP (no prefetch); -1: asynchronous");
DEFINE_string(optimizer, "adagrad", "local, ssh, node-flags: optimizer of the sparse tables (sgd, adagrad, rowwise_adagrad, adam, ftrl); bench pushpull, memory, checkpoint: the tables' optimizer");
DEFINE_double(learning_rate, 0.05, "local, ssh, node-flags: learning rate of the sparse tables");
DEFINE_double(factor_learning_rate, 0,
              "local, ssh, node-flags: learning rate of the factors in the [w, v] rows of fm, deepfm, mf and hybrid, "
              "with --optimizer adagrad or rowwise_adagrad (w keeps --learning_rate); 0: "
              "--learning_rate (default for fm and deepfm: 0.02)");
DEFINE_string(dense_optimizer, "adam", "local, ssh, node-flags: optimizer of dense tables (MLP weights of deepfm, ncf)");
DEFINE_double(dense_learning_rate, 0.001, "local, ssh, node-flags: learning rate of dense tables");
DEFINE_int64(evict_after_s, 0,
             "local, ssh, node-flags: drop embedding rows that no pull or push touched for this many seconds of "
             "wall-clock time, so a job that runs for weeks keeps its tables bounded (MLP weights are kept); 0: "
             "never");
DEFINE_double(max_bad_line_fraction, 0.01, "local, ssh, node-flags, eval, predict, recommend, serve: fail past this fraction of malformed lines");
DEFINE_double(eval_every_s, 0,
              "local, ssh, node-flags: evaluate on --test every this many seconds of training (one worker scores it "
              "against the servers' rows; in the progress lines and the summary's \"evals\"), and "
              "once at the end; 0: not by time");
DEFINE_uint64(eval_every_rows, 0, "local, ssh, node-flags: evaluate on --test every this many rows trained, and once at the end; 0: not by rows");
DEFINE_uint64(eval_rows, 0, "local, ssh, node-flags: test rows scored by each evaluation during training (0: all; the final one scores all)");
DEFINE_string(model_dir, "", "eval, predict, recommend, serve: directory with the exported model (model.json, *.epsmodel); local: where the job exports it (default RUN_DIR/model); ssh, node-flags: where the servers export it (on their hosts)");
DEFINE_string(checkpoint_dir, "", "local: where checkpoints go (default RUN_DIR/checkpoints, or the --resume directory); ssh, node-flags: where they go, a path every host reaches (shared storage), and the scheduler runs with --resume=auto; empty: no checkpoints, a dead node fails the job");
DEFINE_double(progress_interval_s, 2, "How often the job prints a progress line (seconds)");
DEFINE_int32(checkpoint_interval_s, 30, "local: checkpoint every this many seconds (and at the end of each pass); ssh, node-flags: the same, when given (default: the scheduler's, 60)");
DEFINE_string(resume, "", "local: resume the job from the newest usable checkpoint in this directory (a checkpoint directory, or a run directory); 'auto': resume from --run_dir's (or --checkpoint_dir's) checkpoints when there are any, else start a new job");
DEFINE_int32(replicas, 1,
             "local, ssh, node-flags, bench pushpull: 2 keeps a copy of each server's rows on the next server, fed by every push before it is "
             "acknowledged, so a dead server's replacement loses nothing acknowledged (needs >= 2 servers and checkpoints)");
DECLARE_string(model);  // worker/model/model_flags.cc

namespace embedps::launch {
namespace {

Status CheckRange(const char* flag, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return InvalidArgument(std::string("--") + flag + " must be in " + std::to_string(lo) + ".." +
                           std::to_string(hi) + ", got " + std::to_string(value));
  }
  return Status::OK();
}

using worker::FlagWasSet;

// The shortest text that reads back as `v`: the daemon gets exactly the
// launcher's value (std::to_string would turn 1e-7 into 0.000000).
std::string Decimal(double v) {
  char text[64];
  const auto end = std::to_chars(text, text + sizeof(text), v).ptr;
  return std::string(text, end);
}

// Defaults of fm and deepfm, measured in docs/results.md ("FM and DeepFM
// learn little from stale rows"): they train in small batches without
// prefetch (deepfm in batches of 500, where its per-batch costs matter),
// and deepfm's MLP steps every 4 batches (batch 2000) with one pull and one
// summed push of its dense tables (4 rather than 2 since its MLP runs in
// bf16: the dense traffic became a fifth of the job's cost). Explicit
// flags win.
constexpr uint32_t kFmBatchSize = 250;
constexpr uint32_t kDeepFmBatchSize = 500;
constexpr uint32_t kDeepFmDenseEvery = 4;
// FM interactions are unstable at the linear weights' rate (docs/results.md).
constexpr double kFmFactorLearningRate = 0.02;

void SetModelDefaults(JobSettings& job) {
  const std::string model = FLAGS_model;
  const bool adagrad = job.optimizers.optimizer == "adagrad" || job.optimizers.optimizer == "rowwise_adagrad";
  if ((model == "fm" || model == "deepfm") && adagrad && !FlagWasSet("factor_learning_rate")) {
    job.optimizers.factor_learning_rate = kFmFactorLearningRate;
  }
  if (model == "fm" || model == "deepfm") {
    if (!FlagWasSet("batch_size")) job.training.batch_size = model == "fm" ? kFmBatchSize : kDeepFmBatchSize;
    if (!FlagWasSet("prefetch")) job.training.prefetch = 0;
  }
  if (model == "deepfm") {
    if (!FlagWasSet("dense_pull_every")) job.training.dense_pull_every = kDeepFmDenseEvery;
    if (!FlagWasSet("dense_push_every")) job.training.dense_push_every = kDeepFmDenseEvery;
  }
}

std::vector<std::string> SchedulerFlags(const JobSettings& job, const JobModel& model) {
  std::vector<std::string> f;
  // Only empty for `node-flags` (a flagfile may give --train itself).
  if (!job.data.train.empty()) f.push_back("--train=" + job.data.train);
  f.push_back("--passes=" + std::to_string(job.training.passes));
  f.push_back("--max_bad_line_fraction=" + Decimal(job.data.max_bad_line_fraction));
  if (job.progress_interval_s) {
    f.push_back("--progress_interval_ms=" + std::to_string(std::llround(*job.progress_interval_s * 1000)));
  }
  if (!job.model_dir.empty()) f.push_back("--model_dir=" + job.model_dir);
  const CheckpointSettings& c = job.checkpoints;
  if (!c.dir.empty()) {
    f.push_back("--checkpoint_dir=" + c.dir);
    if (c.interval_s) f.push_back("--checkpoint_interval_s=" + std::to_string(*c.interval_s));
  }
  if (!c.resume.empty()) f.push_back("--resume=" + c.resume);
  if (job.replicas > 1) f.push_back("--replicas=" + std::to_string(job.replicas));
  if (job.eval.enabled()) {
    f.push_back("--eval_every_s=" + Decimal(job.eval.every_s));
    f.push_back("--eval_every_rows=" + std::to_string(job.eval.every_rows));
    f.push_back("--eval_rows=" + std::to_string(job.eval.rows));
    if (job.eval.keep_best) f.push_back("--keep_best");
  }
  // The scheduler writes model.json after the export.
  f.push_back(ModelInfoFlag(model));
  // What /status and the dashboard show of the job's settings.
  const nlohmann::json config = {{"train", job.data.train},
                                 {"test", job.data.test},
                                 {"validation", job.data.validation},
                                 {"keep_best", job.eval.keep_best},
                                 {"format", data::FormatName(model.format)},
                                 {"batch_size", job.training.batch_size},
                                 {"passes", job.training.passes},
                                 {"max_staleness", job.training.max_staleness},
                                 {"optimizer", job.optimizers.optimizer},
                                 {"learning_rate", job.optimizers.learning_rate},
                                 {"dense_optimizer", job.optimizers.dense_optimizer},
                                 {"dense_learning_rate", job.optimizers.dense_learning_rate},
                                 {"replicas", job.replicas}};
  f.push_back("--job_config=" + config.dump());
  return f;
}

std::vector<std::string> ServerFlags(const JobSettings& job, const JobModel& model) {
  std::string tables;
  for (const auto& line : TableSpecLines(job.optimizers, *model.model)) {
    tables += (tables.empty() ? "" : "; ") + line;
  }
  return {"--tables=" + tables};
}

std::vector<std::string> WorkerFlags(const JobSettings& job, const JobModel& model) {
  const TrainingSettings& t = job.training;
  std::vector<std::string> f = {"--batch_size=" + std::to_string(t.batch_size),
                                "--prefetch=" + std::to_string(t.prefetch),
                                "--max_staleness=" + std::to_string(t.max_staleness),
                                "--dense_pull_every=" + std::to_string(t.dense_pull_every),
                                "--dense_push_every=" + std::to_string(t.dense_push_every),
                                std::string("--format=") + data::FormatName(model.format)};
  if (job.eval.enabled()) {
    f.push_back("--eval_test=" + (job.data.validation.empty() ? job.data.test : job.data.validation));
  }
  f.insert(f.end(), job.model_flags.begin(), job.model_flags.end());
  return f;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kScheduler: return "scheduler";
    case Role::kServer: return "server";
    case Role::kWorker: return "worker";
  }
  return "?";
}

StatusOr<Role> ParseRole(const std::string& name) {
  for (Role r : {Role::kScheduler, Role::kServer, Role::kWorker}) {
    if (name == RoleName(r)) return r;
  }
  return InvalidArgument("--role must be scheduler, server or worker, got '" + name + "'");
}

StatusOr<JobSettings> JobSettingsFromFlags() {
  // First: a job of an unknown model is refused for that, whatever else is
  // missing (FOUND.md 12).
  RETURN_IF_ERROR(worker::CheckModelName(FLAGS_model).WithContext("--model"));
  RETURN_IF_ERROR(CheckRange("passes", FLAGS_passes, 1, 1000));
  RETURN_IF_ERROR(CheckRange("batch_size", FLAGS_batch_size, 1, 1 << 20));
  RETURN_IF_ERROR(CheckRange("prefetch", FLAGS_prefetch, 0, 64));
  RETURN_IF_ERROR(CheckRange("max_staleness", FLAGS_max_staleness, -1, 1 << 20));
  RETURN_IF_ERROR(CheckRange("dense_pull_every", FLAGS_dense_pull_every, 1, 1 << 20));
  RETURN_IF_ERROR(CheckRange("dense_push_every", FLAGS_dense_push_every, 1, 1 << 20));
  RETURN_IF_ERROR(CheckRange("checkpoint_interval_s", FLAGS_checkpoint_interval_s, 0, 86400 * 7));
  RETURN_IF_ERROR(CheckRange("replicas", FLAGS_replicas, 1, 2));
  RETURN_IF_ERROR(CheckRange("evict_after_s", FLAGS_evict_after_s, 0, int64_t{10} * 366 * 86400));
  JobSettings job;
  job.data = {FLAGS_train, FLAGS_test, FLAGS_format, FLAGS_max_bad_line_fraction, FLAGS_validation};
  job.training.passes = FLAGS_passes;
  job.training.batch_size = FLAGS_batch_size;
  job.training.prefetch = FLAGS_prefetch;
  job.training.dense_pull_every = FLAGS_dense_pull_every;
  job.training.dense_push_every = FLAGS_dense_push_every;
  job.training.max_staleness = FLAGS_max_staleness;
  job.optimizers = {FLAGS_optimizer,         FLAGS_learning_rate,       FLAGS_factor_learning_rate,
                    FLAGS_dense_optimizer,   FLAGS_dense_learning_rate, FLAGS_evict_after_s};
  job.eval = {FLAGS_eval_every_s, FLAGS_eval_every_rows, FLAGS_eval_rows, FLAGS_keep_best};
  job.checkpoints.dir = FLAGS_checkpoint_dir;
  // Unset, each launcher keeps its own default (local: 30 s).
  if (FlagWasSet("checkpoint_interval_s")) job.checkpoints.interval_s = FLAGS_checkpoint_interval_s;
  job.checkpoints.resume = FLAGS_resume;
  job.model_dir = FLAGS_model_dir;
  job.replicas = static_cast<uint32_t>(FLAGS_replicas);
  if (FlagWasSet("progress_interval_s")) job.progress_interval_s = FLAGS_progress_interval_s;
  job.model_flags = worker::ModelFlagArgs();
  SetModelDefaults(job);
  return job;
}

Status ValidateJobSettings(const JobSettings& job) {
  if (job.training.passes == 0) return InvalidArgument("--passes must be >= 1");
  if (job.training.batch_size == 0) return InvalidArgument("--batch_size must be >= 1");
  if (!(job.optimizers.learning_rate > 0)) return InvalidArgument("--learning_rate must be > 0");
  if (!(job.eval.every_s >= 0)) return InvalidArgument("--eval_every_s must be >= 0");
  if (job.progress_interval_s && !(*job.progress_interval_s >= 0.05 && *job.progress_interval_s <= 86400)) {
    return InvalidArgument("--progress_interval_s must be between 0.05 and 86400");
  }
  return ValidateTableOptimizers(job.optimizers);
}

Status CheckEvalSettings(const JobSettings& job, const worker::ModelSpec& spec) {
  if (!job.eval.enabled()) {
    if (!job.data.validation.empty() || job.eval.keep_best) {
      return InvalidArgument(std::string(job.eval.keep_best ? "--keep_best" : "--validation") +
                             " works with the periodic evaluation: give --eval_every_s or --eval_every_rows");
    }
    return Status::OK();
  }
  if (spec.model == "ncf") {
    // Its test set holds positives only; NCF is judged by ranking (HR@10).
    return InvalidArgument("--eval_every_s/--eval_every_rows: periodic evaluation does not support --model ncf");
  }
  if (job.data.test.empty() && job.data.validation.empty()) {
    return InvalidArgument("--eval_every_s/--eval_every_rows need --validation or --test");
  }
  if (job.eval.keep_best && job.data.validation.empty()) {
    // Choosing the model on the test set and reporting on it would
    // overstate the result.
    return InvalidArgument("--keep_best chooses by --validation: give a validation file of its own");
  }
  return Status::OK();
}

std::vector<std::string> JobDaemonFlags(const JobSettings& job, const JobModel& model, Role role) {
  switch (role) {
    case Role::kScheduler: return SchedulerFlags(job, model);
    case Role::kServer: return ServerFlags(job, model);
    case Role::kWorker: return WorkerFlags(job, model);
  }
  return {};
}

}  // namespace embedps::launch
