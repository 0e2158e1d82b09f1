// The reference trainer that tests compare the distributed system against: the
// simplest correct logistic regression over exactly the parser's keys, with no
// sharding, threads or network in the way.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace embedps::testing {

// Optimizer settings; defaults match the system's defaults for LR.
struct ReferenceLrOptions {
  double learning_rate = 0.05;
  double initial_accumulator = 0.1;  // Adagrad's starting sum of squared gradients
  int epochs = 1;
  int batch_size = 1;  // gradients are averaged over the examples of a batch
  bool adagrad = true;  // false: plain SGD
};

// Quality of the trained model on the test file.
struct ReferenceLrResult {
  double test_auc = 0;
  double test_logloss = 0;
  uint64_t train_rows = 0;  // examples trained on, summed over epochs
};

// Plain single-threaded in-process logistic regression over the parser's keys
// (bias key included), using an std::unordered_map of weight + accumulator,
// weights initialized to 0. Trains on train_file in file order, then evaluates
// on test_file. Errors from opening or reading either file are returned.
[[nodiscard]] StatusOr<ReferenceLrResult> TrainReferenceLr(const std::string& train_file,
                                                           const std::string& test_file,
                                                           const ReferenceLrOptions& o);

}  // namespace embedps::testing
