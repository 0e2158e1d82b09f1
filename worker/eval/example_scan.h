// Reads every example of some data files in order, in batches, for the
// offline tools (eval, ranking evaluation, predict, the interaction lists):
// one reader per file, malformed lines skipped and counted as the readers do.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/data/csv_schema.h"
#include "worker/data/example.h"

namespace embedps::worker {

struct ScanOptions {
  double max_bad_line_fraction = 0.01;
  size_t batch_size = 4096;
  // Stop after this many examples; 0: read everything.
  uint64_t max_rows = 0;
  // Evaluation needs labels: unlabeled files are refused. Scoring does not.
  bool labels_required = true;
  // The format the model was trained on, when known: files whose features
  // it would read differently (another family of formats) are refused.
  std::optional<data::Format> trained_on;
  // csv files: the columns' roles (the model's, for a trained model).
  data::CsvColumns csv;
};

// Calls `fn` with each batch (it may modify the batch) of `files` (a file,
// comma-separated files or a glob; plain or gzip), each file read as
// `format` or as its detected format. Stops at the first error of a reader
// or of `fn`. Adds the malformed lines skipped to *bad_lines when given.
Status ScanExamples(const std::string& files, std::optional<data::Format> format, const ScanOptions& options,
                    const std::function<Status(std::vector<data::Example>& batch)>& fn,
                    uint64_t* bad_lines = nullptr);

}  // namespace embedps::worker
