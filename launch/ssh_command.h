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
#include "launch/job_settings.h"
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
  // The job's settings, shared with the other launchers
  // (launch/job_settings.h). Here the training files must be at
  // job.data.train on every worker's host; the format is detected from the
  // first of them only when this machine can read it; job.data.test is read
  // on this machine after the job, from job.model_dir (which must then be a
  // directory this machine sees, e.g. shared storage). Checkpoints go to
  // job.checkpoints.dir, on storage every host reaches at that path (NFS,
  // Lustre); empty: none, and a dead node fails the job. With them the
  // scheduler runs with --resume=auto, and the launcher starts a node that
  // died again on its host (at most max_restarts times): a server or worker
  // rejoins, the scheduler resumes from the newest checkpoint.
  JobSettings job;
  // Passed through last, so e.g. --node_flags=--cluster_token=T overrides
  // the fresh token the launcher makes for every job.
  ExtraFlags extra;
  std::string summary_json;
  uint32_t timeout_s = 3600;
  // CURVE key directory (embedps keygen), the same path on every host;
  // required unless `insecure`, which runs the job without CURVE.
  std::string curve_dir;
  bool insecure = false;
  bool restart_failed = true;
  uint32_t max_restarts = 10;
};

// Runs the job to its end. A failing node ends it with a Status naming the
// node and its host; no remote daemon outlives this call.
Status RunSsh(const SshOptions& options);

// The job flags `embedps ssh` gives a node of `role` ("scheduler", "server"
// or "worker"; launch/job_settings.h), for launchers that start the daemons
// themselves (`embedps node-flags`: the Slurm script, the Compose and
// Kubernetes flagfiles). Placement flags (--bind, --scheduler, ...) are not
// included.
StatusOr<std::vector<std::string>> JobNodeFlags(const JobSettings& job, const std::string& role);

}  // namespace embedps::launch
