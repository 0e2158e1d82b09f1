// Leave-latest-out split for implicit feedback (the NCF protocol): the
// latest interaction of every user (largest timestamp; of equal ones, the
// last in file order) becomes the test set, everything else the training
// set. `embedps local --model ncf` without --test trains and evaluates on
// this split, written into the run directory.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::launch {

struct HoldoutSplit {
  std::string train;  // DIR/train.split
  std::string test;   // DIR/test.heldout
  uint64_t train_lines = 0;
  uint64_t test_lines = 0;  // one per user
};

// Splits the rating files `train_spec` (a file, comma-separated files or a
// glob; plain or gzip) of `format`; both outputs are plain files of the
// same format (a header line, as in ratings.csv, starts both). Lines that do
// not parse stay in the training file for the workers to count.
// InvalidArgument for a non-rating format or files without any rating.
StatusOr<HoldoutSplit> SplitLatestPerUser(const std::string& train_spec, data::Format format,
                                          const std::string& dir);

}  // namespace embedps::launch
