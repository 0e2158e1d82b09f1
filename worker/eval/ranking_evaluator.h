// Top-K ranking evaluation of an exported model on held-out interactions.
//
// Sampled (the NCF paper's leave-one-out protocol): every held-out
// (user, item) is ranked against `negatives` items drawn, without
// replacement, from the catalog items the user has no interaction with
// (training or test); HR@K and NDCG@K are averaged over held-out pairs.
// The draw is seeded by (seed, user, item), so it does not depend on file
// order, threads or the model.
//
// Full catalog: every user with relevant held-out items gets the top K of
// all catalog items not in their training interactions; precision@K and
// recall@K against the relevant items are averaged over those users (or
// over a seeded subset of at most max_full_catalog_users of them).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "common/status.h"
#include "worker/data/side_features.h"
#include "worker/eval/example_scan.h"
#include "worker/eval/exported_model.h"
#include "worker/eval/interactions.h"

namespace embedps::worker {

struct RankingOptions {
  size_t k = 10;
  uint32_t negatives = 99;
  uint64_t seed = 1;
  // A held-out pair is relevant when its label (rating) is at least this
  // (every pair by default: implicit feedback).
  float min_relevant_label = -std::numeric_limits<float>::infinity();
  // Which of the two protocols to run.
  bool sampled = true;
  bool full_catalog = true;
  // Full-catalog ranking scores users x items pairs: past this many users it
  // ranks a seeded subset of them (the same users on every run).
  size_t max_full_catalog_users = 2000;
  ScanOptions scan;
};

struct RankingResult {
  uint64_t heldout = 0;  // relevant pairs ranked by the sampled protocol
  double hit_ratio = 0;  // HR@K
  double ndcg = 0;       // NDCG@K
  uint64_t users = 0;    // users ranked by the full-catalog protocol
  double precision = 0;  // precision@K
  double recall = 0;     // recall@K
  uint64_t bad_lines = 0;
};

// `train`: the training interactions (excluded from candidates; with the
// test items they form the catalog). `test_files` are rating files read as
// `format` (or detected). InvalidArgument when they hold no relevant pair.
StatusOr<RankingResult> EvaluateRanking(ExportedModel& model, const Interactions& train,
                                        const std::string& test_files, std::optional<data::Format> format,
                                        const data::SideFeatures* side, const RankingOptions& options);

}  // namespace embedps::worker
