#include "scheduler/partition_queue.h"

#include <algorithm>
#include <random>

namespace embedps::scheduler {

PartitionQueue::PartitionQueue(const std::vector<Partition>& partitions, uint32_t passes,
                               uint64_t shuffle_seed) {
  std::vector<Partition> order = partitions;
  for (uint32_t pass = 0; pass < passes; ++pass) {
    if (shuffle_seed != 0) {
      std::mt19937_64 rng(shuffle_seed + pass);
      std::shuffle(order.begin(), order.end(), rng);
    }
    for (const Partition& p : order) {
      Lease lease{p, pass, 0};
      // Make ids unique across passes so a lease is identified by its id alone.
      lease.partition.id = static_cast<uint32_t>(pass * partitions.size() + p.id);
      pending_.push_back(lease);
    }
  }
  total_ = pending_.size();
}

std::optional<Lease> PartitionQueue::Acquire(uint32_t worker) {
  if (pending_.empty()) return std::nullopt;
  Lease lease = pending_.front();
  pending_.pop_front();
  lease.worker = worker;
  leases_[lease.partition.id] = lease;
  return lease;
}

bool PartitionQueue::Finish(uint32_t worker, uint32_t partition_id) {
  auto it = leases_.find(partition_id);
  if (it == leases_.end() || it->second.worker != worker) return false;
  leases_.erase(it);
  ++finished_;
  return true;
}

}  // namespace embedps::scheduler
