// `embedps local`: runs a whole job on this machine (a scheduler, S servers
// and W workers as separate processes on 127.0.0.1), prints where the
// dashboard, every node's metrics and the logs are, waits for the job,
// evaluates the exported model on the test file and writes a JSON summary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "worker/eval/exported_model.h"
#include "launch/extra_flags.h"

namespace embedps::launch {

// The model and its settings come from the model flags
// (worker/model/model_flags.h), shared with the workers.
struct LocalOptions {
  // Files, comma-separated lists or globs; plain or gzip.
  std::string train;
  std::string test;
  // With no test: hold out each user's latest interaction of the training
  // data as the test set (ncf; launch/holdout_split.h).
  bool hold_out_latest = false;
  // Input format name (data::ParseFormatName); empty: detected from the
  // first training file and used for every file.
  std::string format;
  uint32_t servers = 2;
  uint32_t workers = 2;
  uint32_t passes = 1;
  // Train on a shuffled copy of the training files (written to the run
  // directory; plain files only) and hand out each pass's partitions in a
  // random order. Rating files are usually sorted by user, which SGD
  // handles badly.
  bool shuffle = false;
  uint64_t seed = 1;
  uint32_t batch_size = 1000;
  uint32_t prefetch = 1;  // batches whose rows a worker pulls ahead
  uint32_t dense_pull_every = 1;  // batches per pull of the dense tables
  uint32_t dense_push_every = 1;  // batches whose dense gradients are pushed as one
  // Periodic evaluation on the test set (scheduler --eval_every_s,
  // --eval_every_rows, --eval_rows; the workers get --eval_test).
  double eval_every_s = 0;
  uint64_t eval_every_rows = 0;
  uint64_t eval_rows = 0;
  int32_t max_staleness = -1;  // SSP bound for the workers; 0: BSP; < 0: async
  std::string optimizer = "adagrad";
  double learning_rate = 0.05;
  // The factors of [linear weight, factors] rows (fm, deepfm, mf, hybrid)
  // with adagrad or rowwise_adagrad; 0: learning_rate.
  double factor_learning_rate = 0;
  // Dense tables (MLP weights of deepfm and ncf).
  std::string dense_optimizer = "adam";
  double dense_learning_rate = 0.001;
  double max_bad_line_fraction = 0.01;
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
  // checkpoint_dir (empty: RUN_DIR/checkpoints) every checkpoint_interval_s
  // and at the end of each pass; off when !checkpoints.
  bool checkpoints = true;
  std::string checkpoint_dir;
  uint32_t checkpoint_interval_s = 30;
  // Resume the job from the newest usable checkpoint in this directory.
  std::string resume;
  // Spare servers that take over a dead server's rank.
  uint32_t standby_servers = 0;
  // 2: every server's rows are also kept by the next server, which hands
  // them to a dead server's replacement (nothing acknowledged is lost).
  uint32_t replicas = 1;
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
