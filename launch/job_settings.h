// One description of a training job, whichever launcher runs it: the
// settings that reach the daemons (data, training, optimizers, evaluation,
// checkpoints, the model flags). The launcher's flags for them are defined
// and read in one place (job_settings.cc), and one function turns them into
// each daemon's flags, so a new job setting is added there and nowhere else
// in launch/. Placement (endpoints, ports, bind hosts, keys, run
// directories, pid files) stays with each launcher.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "launch/job_model.h"

namespace embedps::launch {

enum class Role { kScheduler, kServer, kWorker };

const char* RoleName(Role role);
// "scheduler", "server" or "worker"; InvalidArgument naming --role otherwise.
StatusOr<Role> ParseRole(const std::string& name);

struct DataSettings {
  // Files, comma-separated lists or globs; plain or gzip.
  std::string train;
  std::string test;
  // Input format name (data::ParseFormatName); empty: detected from the
  // first training file.
  std::string format;
  double max_bad_line_fraction = 0.01;
  // Held-out data the periodic evaluation scores instead of `test`, so that
  // watching it (or choosing by it) does not overstate the test result.
  std::string validation;
};

// The scheduler's passes and the workers' batching and consistency.
struct TrainingSettings {
  uint32_t passes = 1;
  uint32_t batch_size = 1000;
  uint32_t prefetch = 1;          // batches whose rows a worker pulls ahead
  uint32_t dense_pull_every = 1;  // batches per pull of the dense tables
  uint32_t dense_push_every = 1;  // batches whose dense gradients are pushed as one
  int32_t max_staleness = -1;     // SSP bound; 0: BSP; < 0: asynchronous
};

// Evaluation on the test set during training (the scheduler's --eval_*;
// the workers get --eval_test).
struct EvalSettings {
  double every_s = 0;
  uint64_t every_rows = 0;
  uint64_t rows = 0;  // test rows per evaluation; 0: all
  // Export the model of the best evaluation on --validation when the final
  // one is worse (the scheduler's --keep_best).
  bool keep_best = false;
  bool enabled() const { return every_s > 0 || every_rows > 0; }
};

struct CheckpointSettings {
  std::string dir;  // empty: no checkpoints
  // Unset: the scheduler's own default.
  std::optional<uint32_t> interval_s;
  // A checkpoint directory to resume from, "auto" (resume when `dir` holds
  // a checkpoint) or empty.
  std::string resume;
};

struct JobSettings {
  DataSettings data;
  TrainingSettings training;
  TableOptimizers optimizers;  // in the servers' table declarations
  EvalSettings eval;
  CheckpointSettings checkpoints;
  std::string model_dir;  // where the servers export the model; empty: no export
  uint32_t replicas = 1;  // 2: every server's rows also live on the next server
  // How often the scheduler prints a progress line; unset: its default (2 s).
  std::optional<double> progress_interval_s;
  // "--name=value" of every model flag set explicitly (worker::ModelFlagArgs),
  // so the workers apply the same per-model defaults as the launcher.
  std::vector<std::string> model_flags;
};

// The launcher's job flags (defined in job_settings.cc) with the fm and
// deepfm defaults for those left unset; InvalidArgument naming the flag.
StatusOr<JobSettings> JobSettingsFromFlags();

// Checks what a launcher may have changed after JobSettingsFromFlags;
// InvalidArgument naming the flag.
Status ValidateJobSettings(const JobSettings& job);

// Periodic evaluation needs a test set and a model it can score.
Status CheckEvalSettings(const JobSettings& job, const worker::ModelSpec& spec);

// The flags of the job `role` gets, for `model` (the servers' table
// declarations, the scheduler's model.json, the workers' --format). Every
// launcher starts its daemons with these, its placement flags and, last,
// the pass-through flags.
std::vector<std::string> JobDaemonFlags(const JobSettings& job, const JobModel& model, Role role);

}  // namespace embedps::launch
