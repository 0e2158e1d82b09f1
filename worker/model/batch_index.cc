#include "worker/model/batch_index.h"

#include <algorithm>

namespace embedps::worker {

void BatchIndex::Build(const std::vector<data::Example>& batch,
                       const std::vector<uint64_t>& extra_keys) {
  size_t total = 0;
  for (const auto& ex : batch) total += ex.keys.size();
  dedup_.Reset(total + extra_keys.size());
  for (uint64_t key : extra_keys) dedup_.Insert(key);
  slots_.resize(total);
  offsets_.resize(batch.size() + 1);
  // All keys in one array first, so the table is prefetched across example
  // boundaries too.
  keys_.resize(total);
  size_t at = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    offsets_[i] = at;
    std::copy(batch[i].keys.begin(), batch[i].keys.end(), keys_.begin() + static_cast<std::ptrdiff_t>(at));
    at += batch[i].keys.size();
  }
  offsets_[batch.size()] = at;
  dedup_.InsertAll(keys_.data(), total, slots_.data());
}

}  // namespace embedps::worker
