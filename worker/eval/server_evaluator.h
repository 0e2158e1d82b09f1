// Evaluation against the servers' current rows, for the periodic evaluation
// during training (scheduler --eval_every_s / --eval_every_rows): the test
// data is scored through the model's own Predict, as `embedps eval` scores an
// export, but with rows fetched by read-only pulls, so the servers create no
// rows for test-only keys.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"
#include "worker/data/example.h"
#include "worker/data/side_features.h"
#include "worker/eval/model_evaluator.h"
#include "worker/model/model_spec.h"
#include "worker/ps_client.h"

namespace embedps::worker {

struct ServerEvalOptions {
  std::string test_files;  // a file, comma-separated files or a glob
  std::optional<data::Format> format;  // nullopt: detected per file
  const data::SideFeatures* side = nullptr;  // hybrid
  data::CsvColumns csv;  // csv data: the columns the model was trained on
  uint64_t max_rows = 0;  // score at most this many test rows; 0: all
  size_t batch_size = 4096;
  double max_bad_line_fraction = 0.01;
  // Called between batches (heartbeats, scheduler events); an error ends the
  // evaluation with it.
  std::function<Status()> between_batches;
};

// The dense tables (MLP weights) are pulled once per evaluation, the sparse
// rows of every batch as it comes. InvalidArgument when no test row is valid.
StatusOr<EvalResult> EvaluateOnServers(PsClient& client, const ModelSpec& spec, const ServerEvalOptions& options);

}  // namespace embedps::worker
