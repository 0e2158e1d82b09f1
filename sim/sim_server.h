// A simulated embedps-server: registers, heartbeats, serves the rank the
// scheduler gives it (applying pushes of the leases it owns, once per
// request), cuts and writes checkpoints into the memory store, restores a
// rank from a checkpoint chain, exports, and leaves when it is replaced or
// shut down. Its "rows" count how often each data line was applied. With
// --replicas=2 (sim/sim_replication.cc) it forwards each push to its backup
// and applies and acknowledges it only once the backup applied it, keeps a
// copy of the rows of the rank it backs up, and answers handoffs.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/shard_map.h"
#include "sim/sim_env.h"

namespace embedps::sim {

class SimServer {
 public:
  // `on_exit(replaced)` runs when the process ends on its own (shut down,
  // or replaced: exit code 75, which launchers restart as a spare).
  SimServer(Env& env, std::string address, std::function<void(bool replaced)> on_exit);

  void Start();
  const std::string& address() const { return address_; }
  const LineCounts& rows() const { return rows_; }
  bool serving() const;
  // The serving lease alone (RequestHandler::LeaseExpired).
  bool leased() const;

 private:
  void Receive(const Packet& p);
  void OnControl(const wire::Header& h, const wire::Body& body);
  void OnPush(const Packet& p);
  void Heartbeat();
  // Registers (again, after a scheduler restart: with its rank and whether
  // it kept that rank's rows).
  void Register(int32_t previous_rank, bool has_state);
  void SendToScheduler(wire::Body body, uint64_t request_id = 0);
  void Exit(bool replaced);
  // Answers a worker's push: applied, or not (the worker sends it again).
  void AckPush(const Packet& push, bool applied);
  void Apply(const Packet& push);
  // --replicas=2 (sim/sim_replication.cc), as ps/request_handler.cc and
  // ps/replication/ do it.
  bool Replicated() const { return map_.replicas() > 1; }
  void ForwardPush(const Packet& push);
  void OnForwardTimeout(uint64_t forward);
  void OnReplicaPush(const Packet& p);
  void OnReplicaAck(const DataAck& ack);
  void OnHandoff(const wire::HandoffMsg& msg);
  // Writes the handoff files once no push is between its forward and its
  // apply (ReplicaForwarder::Suspend).
  void MaybeWriteHandoff();
  void WriteHandoff(const wire::HandoffMsg& msg);
  void OnReplicationMap();
  void RestoreCopy(const wire::RestoreMsg& msg);
  // The rows of `rank` in a restore chain's files.
  LineCounts LoadRows(const std::vector<std::vector<std::string>>& chain, uint32_t rank) const;
  // Exits with an error (exit code 1).
  void Fatal(const std::string& why);

  Env& env_;
  std::string address_;
  std::function<void(bool)> on_exit_;
  uint32_t node_id_ = 0;
  uint32_t rank_ = 0;
  uint32_t num_servers_ = 0;
  std::chrono::milliseconds node_timeout_{0};
  // The serving lease, as the real server keeps it: the send time of the
  // newest request the scheduler answered.
  std::map<uint64_t, Clock::time_point> sent_;
  Clock::time_point answered_sent_at_;
  bool registered_ = false;
  bool restoring_ = false;
  bool rejoining_ = false;
  bool kept_rows_ = false;  // rejoined with its rows
  bool exited_ = false;
  uint64_t next_request_ = 1;
  uint64_t register_request_ = 0;  // its refusal is the only one that ends the process
  ShardMap map_;
  uint64_t last_epoch_ = 0;
  LineCounts rows_;
  std::map<std::string, std::set<uint64_t>> applied_;  // sender -> push seqs (request dedup)
  // --replicas=2: the copy of the backed-up rank's rows and its request
  // ids; pushes forwarded and not yet answered; forwarding suspended until
  // the backup's endpoint changes (a handoff), or refused until retry_at_.
  LineCounts copy_;
  std::map<std::string, std::set<uint64_t>> copy_applied_;
  std::map<uint64_t, Packet> forwarding_;
  uint64_t next_forward_ = 1;
  std::string suspended_backup_;
  Clock::time_point retry_at_;
  std::vector<wire::HandoffMsg> handoffs_;  // asked for, not yet written
};

}  // namespace embedps::sim
