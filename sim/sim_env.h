// What the simulated processes of one job share: the world, the checkpoint
// store, the job's shape, the servers' exports, and the record of
// invariant violations and events (printed with the seed when one fails).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/memory_checkpoint_store.h"
#include "sim/sim_world.h"

namespace embedps::sim {

struct JobShape {
  uint64_t cluster_id = 42;
  uint32_t servers = 2;
  uint32_t workers = 2;
  uint32_t partitions = 8;
  uint64_t lines = 40;  // per partition
  uint32_t passes = 2;
  uint32_t batch = 5;
  uint32_t virtual_shards = 64;
  std::chrono::milliseconds heartbeat{200};
  // The workers' --max_staleness: -1 asynchronous, k >= 0 bounded (SSP).
  int32_t staleness = -1;
  // Network faults (sim/sim_world.h): how many resets and delay spikes,
  // and the chance that a push is resent early and overtakes its original.
  uint32_t network_faults = 0;
  double early_resend = 0;
  // --replicas: 1, or 2 (every server's rows copied on the next rank).
  uint32_t replicas = 1;
};

struct Env {
  Env(uint64_t seed, JobShape s) : world(seed), store("/sim/checkpoints"), shape(s) {}

  // A violated invariant: remembered with the time (the job goes on, so the
  // trace shows what followed).
  void Violation(const std::string& what);
  // The shard map's epoch only grows, as each node sees it: a map older
  // than `*last` is a violation; *last keeps the newest.
  void CheckEpoch(const std::string& node, uint64_t epoch, uint64_t* last);
  // One line of the seed's trace.
  void Trace(const std::string& what);

  World world;
  MemoryCheckpointStore store;
  JobShape shape;
  std::map<uint32_t, LineCounts> exported;  // by rank, from the final export
  std::vector<std::string> violations;
  std::vector<std::string> trace;
  // Checkpoint writes fail while this is set (a full disk).
  bool disk_full = false;
  // A replacement server restored rank `rank` with `rows` (the job notes
  // which trained lines the failover lost).
  std::function<void(uint32_t rank, const LineCounts& rows)> on_restore;
  // A worker (node id, holding lease `lease`) starts a batch at `clock`,
  // past its wait on the staleness bound (the job checks the lead).
  std::function<void(uint32_t node, uint32_t lease, uint64_t clock)> on_batch_start;
  // A node exits with an error (exit code 1): `embedps local` restarts only
  // killed or replaced nodes, so the launcher fails the job.
  std::function<void(const std::string& address, const std::string& why)> on_fatal;
  // Lines recorded as trained whose updates a failover lost (reported as
  // lost_rows): the only lines a checkpoint or the model may lack.
  std::set<uint64_t> lost_lines;
  // Servers that left holding rows they served (registered again and were
  // handed another rank): like a death, their rows are gone.
  uint32_t left_with_rows = 0;
  // --replicas=2 handoffs: the request ids (push seqs by worker) applied to
  // a copy, by file path.
  std::map<std::string, std::map<std::string, std::set<uint64_t>>> applied_ids_files;
  // A worker's push of lines [first, end) of `lease` was acknowledged, or
  // abandoned unacknowledged (it may or may not have been applied).
  std::function<void(uint32_t lease, uint64_t first, uint64_t end, bool acked)> on_push_outcome;
  // A server restored rows from a checkpoint, or from initial values (not
  // a --replicas=2 handoff).
  bool restored_from_checkpoint = false;
};

// A control message from `from` to `to`.
inline Packet ControlPacket(std::string from, std::string to, uint64_t cluster_id, uint32_t sender,
                            uint64_t request_id, wire::Body body) {
  Packet p;
  p.from = std::move(from);
  p.to = std::move(to);
  p.header.cluster_id = cluster_id;
  p.header.sender = sender;
  p.header.request_id = request_id;
  p.body = std::move(body);
  return p;
}

}  // namespace embedps::sim
