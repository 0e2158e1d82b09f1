// --replicas=2 in the simulated server, as the real one does it
// (ps/request_handler.cc, ps/replication/, docs/fault-tolerance.md
// "Replication"): a primary forwards each push to its backup (the next
// rank) and applies and acknowledges it only once the backup applied it to
// its copy; unconfirmed within the replica timeout, the push is refused
// (the worker sends it again) and the primary refuses pushes for a while.
// When a server dies, its backup hands over its copy and the request ids
// applied to it, and the server it backed up stops applying pushes and
// hands over its own rows (the replacement's copy).
#include "sim/sim_server.h"

namespace embedps::sim {
namespace {

// The real defaults (--replica_timeout_ms 2 s, a retry after 0.5 s) scaled
// as the simulator scales the death timeout (10 s there, 1 s here).
constexpr std::chrono::milliseconds kReplicaTimeout{200};
constexpr std::chrono::milliseconds kReplicaRetryAfter{50};

std::string HandoffFile(const wire::HandoffMsg& msg, const std::string& what) {
  return msg.directory + "/" + what + "-server-" + std::to_string(msg.rank);
}

}  // namespace

void SimServer::ForwardPush(const Packet& push) {
  for (const auto& [id, pending] : forwarding_) {
    // A copy is being applied right now (RequestDedup kInProgress): drop it.
    if (pending.from == push.from && pending.push.seq == push.push.seq) return;
  }
  // Suspended for a handoff, or the backup timed out lately: refused.
  if (!suspended_backup_.empty() || env_.world.now() < retry_at_) return AckPush(push, false);
  const uint64_t id = next_forward_++;
  forwarding_[id] = push;
  Packet fwd;
  fwd.from = address_;
  fwd.to = map_.replica_endpoints()[map_.BackupOf(rank_)];
  fwd.is_control = false;
  fwd.push = push.push;
  fwd.push.forward = id;
  fwd.push.primary_rank = rank_;
  fwd.push.origin = push.from;
  env_.world.Send(std::move(fwd));
  env_.world.At(kReplicaTimeout, address_, [this, id] { OnForwardTimeout(id); });
}

void SimServer::OnForwardTimeout(uint64_t forward) {
  auto it = forwarding_.find(forward);
  if (it == forwarding_.end()) return;
  // Not applied here either; the real forwarder closes the socket, so a
  // late answer is never taken for another's.
  const Packet push = std::move(it->second);
  forwarding_.erase(it);
  retry_at_ = env_.world.now() + kReplicaRetryAfter;
  AckPush(push, false);
  MaybeWriteHandoff();
}

void SimServer::OnReplicaAck(const DataAck& ack) {
  auto it = forwarding_.find(ack.forward);
  if (it == forwarding_.end()) return;
  const Packet push = std::move(it->second);
  forwarding_.erase(it);
  // The lease was checked before the forward; as the real handler does
  // (ps/request_handler.cc), a push whose forward outlasted it (a stall)
  // is not applied and not acknowledged: the worker sends it again.
  const bool applied = ack.applied && leased();
  if (applied) Apply(push);
  AckPush(push, applied);
  MaybeWriteHandoff();
}

void SimServer::OnReplicaPush(const Packet& p) {
  // The backup's receiver: its own socket and thread, apart from the
  // workers' requests; it applies the forwards of the rank it backs up.
  Packet answer;
  answer.from = address_;
  answer.to = p.from;
  answer.is_control = false;
  answer.conn = p.conn;
  answer.ack.seq = p.push.seq;
  answer.ack.forward = p.push.forward;
  answer.ack.applied = registered_ && Replicated() && map_.BackedUpBy(rank_) == p.push.primary_rank;
  if (answer.ack.applied && copy_applied_[p.push.origin].insert(p.push.seq).second) {
    for (uint64_t line = p.push.first; line < p.push.end; ++line) ++copy_[LineKey(p.push.lease, line)];
  }
  env_.world.Send(std::move(answer));
}

void SimServer::OnHandoff(const wire::HandoffMsg& msg) {
  if (map_.BackupOf(rank_) == msg.rank) {
    // Our backup is gone: refuse pushes until a map names its replacement.
    suspended_backup_ = map_.replica_endpoints()[msg.rank];
  }
  handoffs_.push_back(msg);
  MaybeWriteHandoff();
}

void SimServer::MaybeWriteHandoff() {
  if (!forwarding_.empty()) return;
  // Both neighbours of this server may have died.
  for (const wire::HandoffMsg& msg : std::exchange(handoffs_, {})) WriteHandoff(msg);
}

void SimServer::WriteHandoff(const wire::HandoffMsg& msg) {
  wire::HandoffReplyMsg reply;
  reply.id = msg.id;
  if (env_.disk_full) {
    reply.ok = false;
    reply.error = "No space left on device";
    return SendToScheduler(reply);
  }
  if (map_.BackedUpBy(rank_) == msg.rank) {
    // The backup: our copy of its rows, and the request ids applied to it.
    reply.replica_file = HandoffFile(msg, "copy-of");
    reply.dedup_file = HandoffFile(msg, "applied-ids");
    env_.store.PutFile(reply.replica_file, SimFile{0, msg.rank, copy_});
    env_.applied_ids_files[reply.dedup_file] = copy_applied_;
    reply.rows += copy_.size();
  }
  if (map_.BackupOf(rank_) == msg.rank) {
    // The server it backed up: our rows seed the replacement's copy.
    reply.primary_file = HandoffFile(msg, "rows-of-the-server-before");
    env_.store.PutFile(reply.primary_file, SimFile{0, rank_, rows_});
    reply.rows += rows_.size();
  }
  SendToScheduler(reply);
}

void SimServer::OnReplicationMap() {
  if (!suspended_backup_.empty() && Replicated() &&
      map_.replica_endpoints()[map_.BackupOf(rank_)] != suspended_backup_) {
    suspended_backup_.clear();  // the backup's replacement serves: replicate again
  }
}

void SimServer::RestoreCopy(const wire::RestoreMsg& msg) {
  // The copy of rank-1's rows, and (from a handoff) the request ids the
  // dead server's backup had applied: a worker's resend of a push the dead
  // server forwarded but never answered is acknowledged, not applied twice.
  copy_ = LoadRows(msg.replica_chain, (rank_ + num_servers_ - 1) % num_servers_);
  copy_applied_.clear();
  forwarding_.clear();
  suspended_backup_.clear();
  auto ids = env_.applied_ids_files.find(msg.dedup_file);
  if (!msg.dedup_file.empty() && ids != env_.applied_ids_files.end()) applied_ = ids->second;
}

}  // namespace embedps::sim
