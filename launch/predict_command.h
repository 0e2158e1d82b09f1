// `embedps predict --model DIR --input FILE [--output FILE]`: scores every
// example of a data file with an exported model, one score per line, in
// input order: a click probability (lr, fm, deepfm), a predicted rating
// (mf, hybrid; clipped to the trained range) or an interaction probability
// (ncf). Malformed lines are skipped and counted as the readers do (the
// first few are logged with their line numbers) and get no output line.
#pragma once

#include <string>

#include "common/status.h"
#include "worker/data/side_features.h"

namespace embedps::launch {

struct PredictOptions {
  std::string model_dir;
  // A file, comma-separated files or a glob; plain or gzip; "-": standard
  // input (read to its end first).
  std::string input;
  std::string output;  // empty or "-": stdout
  std::string format;  // --format; empty: detected per file
  double max_bad_line_fraction = 0.01;
  double progress_seconds = 2;  // progress lines on stderr this often
};

// Writes the scores and a closing line on stderr. NotFound/InvalidArgument
// for a bad model or input (nothing is left at `output` then).
Status RunPredict(const PredictOptions& options, const data::SideFeatures* side);

}  // namespace embedps::launch
