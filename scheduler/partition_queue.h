// Hands out data partitions to workers, pass by pass, and remembers which
// worker holds which lease so a partition is never handed out twice.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "common/partition.h"

namespace embedps::scheduler {

struct Lease {
  Partition partition;
  uint32_t pass = 0;
  uint32_t worker = 0;  // node id holding the lease
};

class PartitionQueue {
 public:
  // Queues every partition once per pass, pass 0 first. With a non-zero
  // shuffle_seed each pass takes the partitions in its own random order
  // (so consecutive epochs do not see the data in the same sequence).
  PartitionQueue(const std::vector<Partition>& partitions, uint32_t passes, uint64_t shuffle_seed = 0);

  // Leases the next partition to `worker`, or nothing when all are handed out.
  std::optional<Lease> Acquire(uint32_t worker);
  // Marks the lease of `partition_id` held by `worker` finished. Returns false
  // if that worker held no such lease.
  bool Finish(uint32_t worker, uint32_t partition_id);

  size_t total() const { return total_; }
  size_t finished() const { return finished_; }
  size_t outstanding() const { return leases_.size(); }

 private:
  std::deque<Lease> pending_;
  std::map<uint32_t, Lease> leases_;  // by partition id; ids are unique per pass
  size_t total_ = 0;
  size_t finished_ = 0;
};

}  // namespace embedps::scheduler
