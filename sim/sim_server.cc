#include "sim/sim_server.h"

#include "common/scheduler_link.h"

namespace embedps::sim {

SimServer::SimServer(Env& env, std::string address, std::function<void(bool)> on_exit)
    : env_(env), address_(std::move(address)), on_exit_(std::move(on_exit)) {}

void SimServer::Start() {
  env_.world.Attach(address_, [this](const Packet& p) { Receive(p); });
  Register(-1, false);
  env_.world.At(env_.shape.heartbeat, address_, [this] { Heartbeat(); });
}

void SimServer::Register(int32_t previous_rank, bool has_state) {
  wire::RegisterMsg reg;
  reg.role = wire::Role::kServer;
  reg.endpoint = address_;
  reg.replica_endpoint = address_;  // forwards are told apart by DataPush::forward
  reg.host = "sim";
  reg.previous_rank = previous_rank;
  reg.has_state = has_state;
  register_request_ = next_request_;
  SendToScheduler(reg);
}

bool SimServer::leased() const {
  // The same lease as the real server's (ps/server.cc RenewServingLease).
  return node_timeout_.count() == 0 ||
         env_.world.now() < answered_sent_at_ + node_timeout_ - ServingLeaseMargin(node_timeout_);
}

bool SimServer::serving() const {
  return registered_ && !restoring_ && leased() && rank_ < num_servers_ && rank_ < map_.endpoints().size() &&
         map_.endpoints()[rank_] == address_;
}

void SimServer::SendToScheduler(wire::Body body, uint64_t request_id) {
  if (request_id == 0) {
    request_id = next_request_++;
    sent_[request_id] = env_.world.now();
  }
  Packet p = ControlPacket(address_, "scheduler", env_.shape.cluster_id, node_id_, request_id, std::move(body));
  p.header.epoch = last_epoch_;  // as SchedulerLink stamps its map's epoch
  env_.world.Send(std::move(p));
}

void SimServer::Heartbeat() {
  if (exited_) return;
  if (registered_) {
    wire::HeartbeatMsg hb;
    hb.server = wire::ServerStats{};
    SendToScheduler(hb);
  }
  env_.world.At(env_.shape.heartbeat, address_, [this] { Heartbeat(); });
}

void SimServer::Exit(bool replaced) {
  if (exited_) return;
  exited_ = true;
  env_.Trace(address_ + (replaced ? " exits: replaced" : " exits: shut down"));
  env_.world.Kill(address_);
  if (on_exit_) on_exit_(replaced);
}

void SimServer::Fatal(const std::string& why) {
  if (exited_) return;
  exited_ = true;
  env_.Trace(address_ + " exits with an error: " + why);
  env_.world.Kill(address_);
  if (env_.on_fatal) env_.on_fatal(address_, why);
}

void SimServer::Receive(const Packet& p) {
  if (exited_) return;
  if (!p.is_control && p.ack.forward != 0) return OnReplicaAck(p.ack);
  if (!p.is_control) return OnPush(p);
  OnControl(p.header, p.body);
}

void SimServer::OnControl(const wire::Header& h, const wire::Body& body) {
  if (auto it = sent_.find(h.request_id); it != sent_.end()) {
    if (!std::holds_alternative<wire::ErrorMsg>(body)) answered_sent_at_ = std::max(answered_sent_at_, it->second);
    sent_.erase(sent_.begin(), std::next(it));
  }
  if (auto* reply = std::get_if<wire::RegisterReplyMsg>(&body)) {
    if (rejoining_) {
      rejoining_ = false;
      if (kept_rows_ && reply->rank != rank_) {
        // Rows of one rank cannot serve another. The real server
        // (ps/server.cc RejoinScheduler) then exits with code 1, which
        // `embedps local` takes for a failure of the job; modelled as
        // exit 75 (started again as a spare) as before: see "Not simulated
        // yet" in docs/simulation.md.
        env_.Trace(address_ + " rejoined as rank " + std::to_string(reply->rank) + " but holds rank " +
                   std::to_string(rank_) + "'s rows; exits");
        ++env_.left_with_rows;
        return Exit(/*replaced=*/true);
      }
      if (!kept_rows_) {
        rows_.clear();
        copy_.clear();
      }
      // The old scheduler's handoffs are void (ps/server.cc RejoinScheduler).
      suspended_backup_.clear();
      retry_at_ = {};
      handoffs_.clear();
    }
    registered_ = true;
    node_id_ = reply->node_id;
    rank_ = reply->rank;
    num_servers_ = reply->num_servers;
    node_timeout_ = std::chrono::milliseconds(reply->node_timeout_ms);
    env_.Trace(address_ + " registered as node " + std::to_string(node_id_) + ", rank " + std::to_string(rank_));
  } else if (auto* m = std::get_if<wire::ShardMapMsg>(&body)) {
    env_.CheckEpoch(address_, m->map.epoch(), &last_epoch_);
    map_ = m->map;
    OnReplicationMap();
  } else if (auto* handoff = std::get_if<wire::HandoffMsg>(&body)) {
    OnHandoff(*handoff);
  } else if (auto* err = std::get_if<wire::ErrorMsg>(&body)) {
    if (err->code == wire::ErrorCode::kReplaced) Exit(/*replaced=*/true);
    if (err->code == wire::ErrorCode::kNotAdmitted && !registered_ && !rejoining_ &&
        h.request_id == register_request_) {
      // Refused (the job is exporting, say): the real server exits with
      // the reason, and the launcher starts it again.
      env_.Trace(address_ + " was refused: " + err->message);
      return Exit(/*replaced=*/true);
    }
    if (err->code == wire::ErrorCode::kNotAdmitted && rejoining_ && h.request_id == register_request_) {
      // SchedulerLink::Rejoin's Call returns the refusal; the server fails.
      return Fatal("the scheduler refused its registration: " + err->message);
    }
    if (err->code == wire::ErrorCode::kNotAdmitted && registered_ && !rejoining_) {
      // The scheduler restarted: register again with the rank, keeping
      // its rows when it served them.
      rejoining_ = true;
      registered_ = false;
      kept_rows_ = !restoring_ && rank_ < num_servers_;
      env_.Trace(address_ + " rejoins the restarted scheduler as rank " + std::to_string(rank_) +
                 (kept_rows_ ? " with its rows" : ""));
      Register(static_cast<int32_t>(rank_), kept_rows_);
    }
  } else if (std::holds_alternative<wire::ShutdownMsg>(body)) {
    Exit(/*replaced=*/false);
  } else if (auto* cp = std::get_if<wire::CheckpointMsg>(&body)) {
    // The cut: the rows as they are now; the write follows in the
    // background while training goes on.
    auto snapshot = std::make_shared<LineCounts>(rows_);
    wire::CheckpointReplyMsg cut;
    cut.id = cp->id;
    SendToScheduler(cut, h.request_id);
    const std::string path = cp->directory + "/" + scheduler::ServerFileName(rank_);
    const uint64_t id = cp->id;
    const uint32_t rank = rank_;
    const auto write_time = std::chrono::microseconds(static_cast<int64_t>(env_.world.Uniform(1000, 40000)));
    env_.world.At(write_time, address_, [this, snapshot, path, id, rank] {
      wire::CheckpointReplyMsg done;
      done.id = id;
      done.written = true;
      if (env_.disk_full) {
        done.ok = false;
        done.error = "No space left on device";
      } else {
        env_.store.PutFile(path, SimFile{id, rank, *snapshot});
        done.path = path;
        done.rows = snapshot->size();
      }
      SendToScheduler(done);
    });
  } else if (auto* restore = std::get_if<wire::RestoreMsg>(&body)) {
    rank_ = restore->rank;
    restoring_ = true;
    // From a checkpoint, or (no checkpoint yet, neighbours lost together)
    // from initial values, which the scheduler allows when the pushes lost
    // belong to leases it requeued: rows rolled back by design either way.
    env_.restored_from_checkpoint |= restore->checkpoint_id != 0 || restore->chain.empty();
    rows_ = LoadRows(restore->chain, rank_);
    applied_.clear();
    RestoreCopy(*restore);
    if (env_.on_restore) env_.on_restore(rank_, rows_);
    const auto load_time = std::chrono::microseconds(static_cast<int64_t>(env_.world.Uniform(500, 20000)));
    const uint64_t request = h.request_id;
    env_.world.At(load_time, address_, [this, request] {
      restoring_ = false;
      wire::RestoreReplyMsg reply;
      reply.rows = rows_.size();
      SendToScheduler(reply, request);
    });
  } else if (std::holds_alternative<wire::ExportModelMsg>(body)) {
    env_.exported[rank_] = rows_;
    wire::ExportModelReplyMsg reply;
    reply.rows = rows_.size();
    SendToScheduler(reply, h.request_id);
  }
}

LineCounts SimServer::LoadRows(const std::vector<std::vector<std::string>>& chain, uint32_t rank) const {
  // Every file of the chain's last level holds its server's whole state in
  // the simulator; keep the leases `rank` owns.
  auto owners = ShardMap::Balanced(num_servers_, env_.shape.virtual_shards, 1);
  LineCounts rows;
  if (chain.empty()) return rows;
  for (const std::string& path : chain.back()) {
    const SimFile* f = env_.store.File(path);
    if (f == nullptr) continue;
    for (const auto& [key, count] : f->rows) {
      if (owners->ServerOf(key >> 32) == rank) rows[key] += count;
    }
  }
  return rows;
}

void SimServer::OnPush(const Packet& p) {
  if (p.push.forward != 0) return OnReplicaPush(p);
  if (!serving() || map_.ServerOf(p.push.lease) != rank_) return AckPush(p, false);
  // A resent push (its ack was lost or late) is applied once.
  if (applied_[p.from].count(p.push.seq) > 0) return AckPush(p, true);
  if (!Replicated()) {
    Apply(p);
    return AckPush(p, true);
  }
  ForwardPush(p);
}

void SimServer::Apply(const Packet& push) {
  if (!applied_[push.from].insert(push.push.seq).second) return;
  for (uint64_t line = push.push.first; line < push.push.end; ++line) ++rows_[LineKey(push.push.lease, line)];
}

void SimServer::AckPush(const Packet& push, bool applied) {
  Packet ack;
  ack.from = address_;
  ack.to = push.from;
  ack.is_control = false;
  ack.ack.seq = push.push.seq;
  ack.ack.applied = applied;
  ack.conn = push.conn;  // the ROUTER replies on the request's connection
  env_.world.Send(std::move(ack));
}

}  // namespace embedps::sim
