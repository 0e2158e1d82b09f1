// `embedps local`: runs a whole job on this machine (a scheduler, S servers
// and W workers as separate processes on 127.0.0.1), waits for it, evaluates
// the exported model on the test file and writes a JSON summary.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace embedps::launch {

struct LocalOptions {
  std::string model = "lr";
  std::string train;
  std::string test;
  uint32_t servers = 2;
  uint32_t workers = 2;
  uint32_t passes = 1;
  uint32_t batch_size = 1000;
  uint32_t prefetch = 1;  // batches whose rows a worker pulls ahead
  std::string optimizer = "adagrad";
  double learning_rate = 0.05;
  double max_bad_line_fraction = 0.01;
  std::string summary_json;
  // Logs, the exported model and statistics go here; empty: a new /tmp dir.
  std::string run_dir;
  // Where embedps-scheduler/-server/-worker live.
  std::string bin_dir;
  uint32_t timeout_s = 3600;
  // Generate CURVE keys into RUN_DIR/keys and turn CURVE on for every child.
  bool curve = false;
};

// Runs the job. A failing child ends the run with a Status naming the child
// and its last error line; no child process outlives this call.
Status RunLocal(const LocalOptions& options);

}  // namespace embedps::launch
