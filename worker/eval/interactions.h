// Who interacted with what in rating data: each user's items and the item
// catalog. `recommend` excludes a user's items and ranks the rest of the
// catalog; ranking evaluation samples negatives outside them. An exported
// model of rating data carries its training interactions as
// interactions.tsv ("user<TAB>item" lines, sorted; docs/model-format.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/data/example.h"
#include "worker/eval/example_scan.h"

namespace embedps::worker {

inline constexpr char kInteractionsFile[] = "interactions.tsv";

class Interactions {
 public:
  void Add(uint64_t user, uint64_t item);
  // Sorts and deduplicates; call after the last Add and before any lookup.
  void Finish();

  // The user's items, sorted; nullptr for a user with none.
  const std::vector<uint64_t>* ItemsOf(uint64_t user) const;
  bool Has(uint64_t user, uint64_t item) const;
  // Every item of every user, sorted, unique.
  const std::vector<uint64_t>& items() const { return items_; }
  const std::map<uint64_t, std::vector<uint64_t>>& users() const { return by_user_; }
  uint64_t size() const;

 private:
  std::map<uint64_t, std::vector<uint64_t>> by_user_;
  std::vector<uint64_t> items_;
};

// The (user, item) pairs of rating files (as ScanExamples reads them).
// InvalidArgument when the files hold no rating (user, item) pairs.
StatusOr<Interactions> CollectInteractions(const std::string& files, std::optional<data::Format> format,
                                           const ScanOptions& options);

// Writes `path` atomically; Unavailable when it cannot.
Status WriteInteractionsFile(const std::string& path, const Interactions& interactions);
// NotFound for a missing file; DataLoss naming the line for a malformed one.
StatusOr<Interactions> ReadInteractionsFile(const std::string& path);

}  // namespace embedps::worker
