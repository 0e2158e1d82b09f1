#include "worker/model/batch_index.h"

namespace embedps::worker {

void BatchIndex::Build(const std::vector<data::Example>& batch,
                       const std::vector<uint64_t>& extra_keys) {
  size_t total = 0;
  for (const auto& ex : batch) total += ex.keys.size();
  dedup_.Reset(total + extra_keys.size());
  for (uint64_t key : extra_keys) dedup_.Insert(key);
  slots_.resize(total);
  offsets_.resize(batch.size() + 1);
  size_t at = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    offsets_[i] = at;
    for (uint64_t key : batch[i].keys) slots_[at++] = dedup_.Insert(key);
  }
  offsets_[batch.size()] = at;
}

}  // namespace embedps::worker
