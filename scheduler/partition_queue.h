// Hands out data partitions to workers, pass by pass, and remembers which
// worker holds which lease so a partition is never handed out twice. A
// lease's position (lines whose pushes the worker saw acknowledged) is kept
// up to date from the worker's heartbeats, so when the worker dies its
// lease goes back to the queue and resumes from there; the line ranges each
// partition was trained over are recorded, to show no line was skipped.
// The whole state round-trips through JSON for checkpoint manifests.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/partition.h"
#include "common/status.h"

namespace embedps::scheduler {

struct Lease {
  Partition partition;  // id unique across passes; skip_lines where it resumes
  uint32_t pass = 0;
  uint32_t worker = 0;    // node id holding the lease
  uint64_t position = 0;  // lines trained and acknowledged, from the partition's start
};

class PartitionQueue {
 public:
  // Queues every partition once per pass, pass 0 first. With a non-zero
  // shuffle_seed each pass takes the partitions in its own random order
  // (so consecutive epochs do not see the data in the same sequence).
  PartitionQueue(const std::vector<Partition>& partitions, uint32_t passes, uint64_t shuffle_seed = 0);

  // The queue as ToJson() wrote it; the leases then outstanding are queued
  // first, each resuming from its recorded position.
  static StatusOr<PartitionQueue> FromJson(const nlohmann::json& j);
  // Pending work, outstanding leases (with their positions), finished
  // count and trained ranges.
  nlohmann::json ToJson() const;

  // Leases the next partition to `worker`, or nothing when all are handed out.
  std::optional<Lease> Acquire(uint32_t worker);
  // Records how far `worker` has trained its lease of `partition_id`.
  void UpdatePosition(uint32_t worker, uint32_t partition_id, uint64_t position);
  // Marks the lease of `partition_id` held by `worker` finished at line
  // `end` (its last). Returns false if that worker held no such lease.
  bool Finish(uint32_t worker, uint32_t partition_id, uint64_t end);
  // Puts every lease of a dead `worker` back at the front of the queue, to
  // resume from its last recorded position. Returns how many.
  size_t Requeue(uint32_t worker);
  // Input lines trained and acknowledged, each counted once per pass: the
  // trained ranges plus how far every outstanding lease has come. Lines a
  // dead worker trained past its last reported position are trained again
  // by its successor and counted once.
  uint64_t TrainedLines() const;
  // The pass of the oldest unfinished work; passes() when all is done.
  uint32_t CurrentPass() const;

  size_t total() const { return total_; }
  size_t finished() const { return finished_; }
  size_t outstanding() const { return leases_.size(); }
  uint32_t passes() const { return passes_; }
  const std::map<uint32_t, Lease>& leases() const { return leases_; }
  // Per partition id (unique across passes): the [from, to) line ranges
  // trained, in the order they were finished or abandoned.
  const std::map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>>& trained() const {
    return trained_;
  }

 private:
  PartitionQueue() = default;

  std::deque<Lease> pending_;
  std::map<uint32_t, Lease> leases_;  // by partition id; ids are unique per pass
  std::map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>> trained_;
  size_t total_ = 0;
  size_t finished_ = 0;
  uint32_t passes_ = 0;
};

}  // namespace embedps::scheduler
