// `embedps local`: runs a whole job on this machine (a scheduler, S servers
// and W workers as separate processes on 127.0.0.1), prints where the
// dashboard, every node's metrics and the logs are, waits for the job,
// evaluates the exported model on the test file and writes a JSON summary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "launch/extra_flags.h"
#include "launch/job_settings.h"
#include "worker/eval/exported_model.h"

namespace embedps::launch {

// The job's settings (data, training, optimizers, evaluation, checkpoints,
// the model flags) are in `job`, shared with the other launchers
// (launch/job_settings.h); the rest is how this machine runs it.
struct LocalOptions {
  JobSettings job;
  // With no test: hold out each user's latest interaction of the training
  // data as the test set (ncf; launch/holdout_split.h).
  bool hold_out_latest = false;
  uint32_t servers = 2;
  uint32_t workers = 2;
  // Train on a shuffled copy of the training files (written to the run
  // directory; plain files only) and hand out each pass's partitions in a
  // random order. Rating files are usually sorted by user, which SGD
  // handles badly.
  bool shuffle = false;
  uint64_t seed = 1;
  std::string summary_json;
  // Logs, the exported model and statistics go here; empty: a new /tmp dir.
  std::string run_dir;
  // Where embedps-scheduler/-server/-worker live.
  std::string bin_dir;
  uint32_t timeout_s = 3600;
  // --node_flags, --scheduler_flags, ...: daemon flags passed through last.
  ExtraFlags extra;
  // The scheduler's HTTP port (0: any free port; -1: no HTTP on any node).
  // Servers and workers always take free ports.
  int http_port = 0;
  std::string http_bind = "127.0.0.1";
  // Passed to the scheduler: POST /stop, guarded by the token in the file.
  bool http_enable_mutations = false;
  std::string http_token_file;
  // Generate CURVE keys into RUN_DIR/keys and turn CURVE on for every child.
  bool curve = false;

  // Fault tolerance (docs/fault-tolerance.md). Checkpoints go to
  // job.checkpoints.dir (empty: the --resume directory, else
  // RUN_DIR/checkpoints) every job.checkpoints.interval_s (unset: 30) and
  // at the end of each pass; off when !checkpoints. job.checkpoints.resume
  // names a checkpoint or run directory, or "auto".
  bool checkpoints = true;
  // Spare servers that take over a dead server's rank.
  uint32_t standby_servers = 0;
  // Restart a server or worker killed from outside (it rejoins: a server as
  // a standby that is promoted, a worker as a new worker), at most
  // max_restarts times in all.
  bool restart_failed = true;
  uint32_t max_restarts = 10;
};

// Loads an exported model directory for eval/predict/recommend, with the
// servers' initializers for keys the model never trained.
StatusOr<std::unique_ptr<worker::ExportedModel>> LoadExportedModel(const std::string& dir);

// Runs the job. A failing child ends the run with a Status naming the child
// and its last error line; no child process outlives this call.
Status RunLocal(const LocalOptions& options);

}  // namespace embedps::launch
