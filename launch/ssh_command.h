// `embedps ssh`: runs a job on the machines of a hostfile. Every node is one
// local `ssh` process whose remote command starts the daemon under a wrapper
// (launch/remote_shell.h); its output streams into JOB_DIR/logs/NODE.log.
// The first node to fail, a Ctrl-C or the timeout stops every node: the
// launcher closes each ssh's stdin (the remote wrapper then SIGKILLs its
// daemon) and then kills, over fresh ssh connections, whatever the remote pid
// files still name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "launch/extra_flags.h"
#include "launch/ssh_plan.h"

namespace embedps::launch {

struct SshOptions {
  std::string hostfile;
  // Local directory for logs/, train_stats.json; empty: a new /tmp dir.
  std::string job_dir;
  // Directory on every host for the wrapper's pid files and the scheduler's
  // statistics; empty: /tmp/embedps-<job id>.
  std::string remote_dir;
  // Where embedps-scheduler/-server/-worker are on every host.
  std::string remote_bin_dir;
  std::string ssh = "ssh";               // the ssh client (searched in PATH)
  std::vector<std::string> ssh_options;  // e.g. {"-F", "cfg"}, before the host
  std::string bind_host = "0.0.0.0";     // interface the scheduler and servers listen on
  PortOptions ports;
  std::string http_bind = "127.0.0.1";   // --http_bind given to every node when HTTP is on
  // Job settings with the same names and meaning as in `embedps local`. The
  // model comes from the model flags (worker/model/model_flags.h), which the
  // workers get too.
  std::string train;
  // Input format name; empty: detected from the first training file, which
  // must then be readable on this machine too.
  std::string format;
  // Test data, read on this machine after the job: the launcher writes
  // model.json into --model_dir (which must then be a directory this machine
  // sees, e.g. shared storage) and prints the test metrics.
  std::string test;
  uint32_t passes = 1;
  uint32_t batch_size = 1000;
  uint32_t prefetch = 1;
  uint32_t dense_pull_every = 1;  // batches per pull of the dense tables
  uint32_t dense_push_every = 1;  // batches whose dense gradients are pushed as one
  int32_t max_staleness = -1;
  std::string optimizer = "adagrad";
  double learning_rate = 0.05;
  double factor_learning_rate = 0;
  std::string dense_optimizer = "adam";
  double dense_learning_rate = 0.001;
  double max_bad_line_fraction = 0.01;
  std::string model_dir;  // where servers export the model (on their hosts)
  // Passed through last, so e.g. --node_flags=--cluster_token=T overrides
  // the fresh token the launcher makes for every job.
  ExtraFlags extra;
  std::string summary_json;
  uint32_t timeout_s = 3600;
  // CURVE key directory (embedps keygen), the same path on every host;
  // required unless `insecure`, which runs the job without CURVE.
  std::string curve_dir;
  bool insecure = false;
  // Checkpoints, on storage every host reaches at this path (NFS, Lustre);
  // empty: none, and a dead node fails the job. With them the scheduler
  // runs with --resume=auto, and the launcher starts a node that died again
  // on its host (at most max_restarts times): a server or worker rejoins,
  // the scheduler resumes from the newest checkpoint.
  std::string checkpoint_dir;
  bool restart_failed = true;
  uint32_t max_restarts = 10;
};

// Runs the job to its end. A failing node ends it with a Status naming the
// node and its host; no remote daemon outlives this call.
Status RunSsh(const SshOptions& options);

// The job flags `embedps ssh` gives a node of `role` ("server": the table
// declarations of the model the model flags name; "worker": the batch,
// staleness and dense settings, --format and the model flags), for
// launchers that start the daemons themselves (`embedps node-flags`, used
// by the Slurm script). Placement flags (--bind, --scheduler, ...) are not
// included.
StatusOr<std::vector<std::string>> JobNodeFlags(const SshOptions& options, const std::string& role);

}  // namespace embedps::launch
