#include "sim/sim_worker.h"

namespace embedps::sim {

SimWorker::SimWorker(Env& env, std::string address, std::function<void(bool failed)> on_exit)
    : env_(env), address_(std::move(address)), on_exit_(std::move(on_exit)) {}

void SimWorker::Start() {
  env_.world.Attach(address_, [this](const Packet& p) { Receive(p); });
  Register();
  env_.world.At(env_.shape.heartbeat, address_, [this] { Heartbeat(); });
}

void SimWorker::AbandonInFlight() {
  if (in_flight_ && lease_ && env_.on_push_outcome) {
    env_.on_push_outcome(lease_->id, in_flight_->first, in_flight_->end, /*acked=*/false);
  }
  in_flight_.reset();
}

void SimWorker::Register() {
  AbandonInFlight();  // what it pushed last may or may not have been applied
  ++generation_;
  registered_ = have_map_ = awaiting_grant_ = done_ = stop_requested_ = paused_ = batch_scheduled_ = false;
  clock_wait_ = false;
  ++clock_waits_;
  // A new node to the scheduler: its clocks start over, and a lease jumps
  // it to the slowest worker's (worker/worker.cc RejoinScheduler).
  clock_ = known_min_ = reported_clock_ = 0;
  pause_.reset();
  lease_.reset();
  in_flight_.reset();
  progress_ = wire::Progress{};
  node_id_ = 0;
  wire::RegisterMsg reg;
  reg.role = wire::Role::kWorker;
  reg.host = "sim";
  register_request_ = next_request_;
  SendToScheduler(reg);
}

void SimWorker::SendToScheduler(wire::Body body, uint64_t request_id) {
  Packet p = ControlPacket(address_, "scheduler", env_.shape.cluster_id, node_id_,
                           request_id != 0 ? request_id : next_request_++, std::move(body));
  p.header.epoch = last_epoch_;  // as SchedulerLink stamps its map's epoch
  env_.world.Send(std::move(p));
}

void SimWorker::Heartbeat() {
  if (exited_) return;
  // Also once done, while it waits for the shutdown: a restarted scheduler
  // answers "unknown node", and the worker registers again.
  if (registered_) SendToScheduler(wire::HeartbeatMsg{progress_, std::nullopt});
  env_.world.At(env_.shape.heartbeat, address_, [this] { Heartbeat(); });
}

void SimWorker::Receive(const Packet& p) {
  if (exited_) return;
  if (!p.is_control) return OnAck(p.ack);
  OnControl(p.header, p.body);
}

void SimWorker::OnControl(const wire::Header& h, const wire::Body& body) {
  if (auto* reply = std::get_if<wire::RegisterReplyMsg>(&body)) {
    registered_ = true;
    rejoining_ = false;
    node_id_ = reply->node_id;
    env_.Trace(address_ + " registered as node " + std::to_string(node_id_));
  } else if (auto* m = std::get_if<wire::ShardMapMsg>(&body)) {
    env_.CheckEpoch(address_, m->map.epoch(), &last_epoch_);
    map_ = m->map;
    if (!have_map_ && registered_) {
      have_map_ = true;
      RequestPartition(-1);
    }
  } else if (auto* grant = std::get_if<wire::PartitionGrantMsg>(&body)) {
    if (!awaiting_grant_) return;
    awaiting_grant_ = false;
    if (grant->has_partition) {
      lease_ = Lease{grant->partition.id, grant->partition.end - grant->partition.begin, grant->partition.skip_lines};
      progress_.lease_partition = grant->partition.id;
      progress_.lease_pass = grant->pass;
      progress_.lease_lines = lease_->position;
      NextBatch();
    } else if (grant->wait_ms > 0) {
      const uint64_t gen = generation_;
      env_.world.At(std::chrono::milliseconds(grant->wait_ms), address_, [this, gen] {
        if (gen == generation_ && !done_ && !awaiting_grant_ && !lease_) RequestPartition(-1);
      });
    } else {
      Done();
    }
  } else if (auto* update = std::get_if<wire::ClockUpdateMsg>(&body)) {
    OnClockUpdate(update->min_clock);
  } else if (auto* pause = std::get_if<wire::PauseTrainingMsg>(&body)) {
    pause_ = pause->checkpoint_id;
    MaybeAnswerPause();
  } else if (std::holds_alternative<wire::ResumeTrainingMsg>(body)) {
    pause_.reset();
    paused_ = false;
    if (lease_ && !in_flight_) NextBatch();
  } else if (std::holds_alternative<wire::StopTrainingMsg>(body)) {
    stop_requested_ = true;
    if (!in_flight_) Done();
  } else if (auto* err = std::get_if<wire::ErrorMsg>(&body)) {
    if (err->code == wire::ErrorCode::kNotAdmitted && rejoining_ && h.request_id == register_request_) {
      // SchedulerLink::Rejoin's Call returns the refusal: the worker exits
      // with the error (exit code 1), which fails the job.
      return Exit(ExitKind::kError, "its registration again was refused: " + err->message);
    }
    if (err->code == wire::ErrorCode::kNotAdmitted && !registered_ && h.request_id == register_request_) {
      // Refused (the job is exporting, say): the real worker exits with the
      // reason, and the launcher starts it again.
      return Exit(ExitKind::kRefused, "was refused: " + err->message);
    }
    if (err->code == wire::ErrorCode::kNotAdmitted && registered_) {
      // Presumed dead: its lease went back to the queue; start over as a
      // new worker.
      env_.Trace(address_ + " was presumed dead; registers again");
      Register();
      rejoining_ = true;
    }
  } else if (std::holds_alternative<wire::ShutdownMsg>(body)) {
    Exit(ExitKind::kShutdown, "");
  }
}

void SimWorker::Exit(ExitKind kind, const std::string& why) {
  if (!why.empty()) env_.Trace(address_ + (kind == ExitKind::kError ? " exits with an error: " : " ") + why);
  exited_ = true;
  env_.world.Kill(address_);
  if (kind == ExitKind::kError) {
    if (env_.on_fatal) env_.on_fatal(address_, why);
    return;
  }
  if (on_exit_) on_exit_(/*failed=*/kind == ExitKind::kRefused);
}

void SimWorker::RequestPartition(int64_t finished) {
  awaiting_grant_ = true;
  SendToScheduler(wire::PartitionRequestMsg{finished, progress_});
}

void SimWorker::Done() {
  if (done_) return;
  done_ = true;
  SendToScheduler(wire::WorkerDoneMsg{progress_, false});
}

void SimWorker::NextBatch() {
  if (batch_scheduled_ || in_flight_ || !lease_ || done_) return;
  if (pause_ || paused_) return MaybeAnswerPause();
  if (stop_requested_) return Done();
  // As the real worker: the wait comes before it reads the next batch (or
  // finds the lease's end).
  if (BlockedOnClock()) return;
  if (lease_->position >= lease_->end) {
    const uint32_t id = lease_->id;
    progress_.lease_lines = lease_->end;
    lease_.reset();
    RequestPartition(id);
    progress_.lease_partition = -1;
    return;
  }
  if (env_.on_batch_start) env_.on_batch_start(node_id_, lease_->id, clock_);
  // The batch's compute time, then its push.
  batch_scheduled_ = true;
  const uint64_t gen = generation_;
  const auto compute = std::chrono::microseconds(static_cast<int64_t>(env_.world.Uniform(2000, 12000)));
  env_.world.At(compute, address_, [this, gen] {
    if (gen != generation_) return;
    batch_scheduled_ = false;
    if (!lease_ || in_flight_ || done_) return;
    if (pause_ || paused_) return MaybeAnswerPause();
    const uint64_t first = lease_->position;
    in_flight_ = InFlight{next_seq_++, first, std::min<uint64_t>(first + env_.shape.batch, lease_->end)};
    ++clock_;  // trained: the real worker counts a batch once its pushes are sent
    SendPush();
  });
}

void SimWorker::SendPush() {
  if (!in_flight_ || !lease_) return;
  Packet p;
  p.from = address_;
  p.is_control = false;
  p.push.seq = in_flight_->seq;
  p.push.lease = lease_->id;
  p.push.first = in_flight_->first;
  p.push.end = in_flight_->end;
  p.push.epoch = map_.epoch();
  const uint32_t rank = map_.ServerOf(lease_->id);
  p.to = rank < map_.endpoints().size() ? map_.endpoints()[rank] : "";
  const uint64_t seq = in_flight_->seq;
  if (env_.shape.early_resend > 0 && env_.world.Chance(env_.shape.early_resend)) {
    // The client's retry fires before the reply comes; the copy may be
    // handled before the original (the server applies it once).
    const auto early = std::chrono::microseconds(static_cast<int64_t>(env_.world.Uniform(100, 5000)));
    env_.world.At(early, address_, [this, p, seq] {
      if (in_flight_ && in_flight_->seq == seq) env_.world.Send(p, /*in_order=*/false);
    });
  }
  env_.world.Send(std::move(p));
  // The retry interval counts from the last send (PsClient::Resend), so one
  // timer is live per push however often it was sent.
  const uint64_t send = ++sends_;
  env_.world.At(std::chrono::milliseconds(300), address_, [this, seq, send] {
    if (send == sends_) ResendIfUnacked(seq);
  });
}

void SimWorker::ResendIfUnacked(uint64_t seq) {
  if (in_flight_ && in_flight_->seq == seq) SendPush();
}

void SimWorker::OnAck(const DataAck& ack) {
  if (!in_flight_ || ack.seq != in_flight_->seq) return;
  if (!ack.applied) {
    // Not that server's rows (a map change is on its way): try again soon.
    // One retry however many copies were refused (PsClient sets one
    // retry_at per request).
    const uint64_t seq = ack.seq, send = sends_;
    env_.world.At(std::chrono::milliseconds(20), address_, [this, seq, send] {
      if (send == sends_) ResendIfUnacked(seq);
    });
    return;
  }
  const uint64_t n = in_flight_->end - in_flight_->first;
  if (env_.on_push_outcome) env_.on_push_outcome(lease_->id, in_flight_->first, in_flight_->end, /*acked=*/true);
  lease_->position = in_flight_->end;
  in_flight_.reset();
  progress_.rows += n;
  progress_.loss_sum += 0.5 * static_cast<double>(n);
  progress_.lines_read += n;
  progress_.lease_lines = lease_->position;
  ++progress_.clock;
  ReportClock(/*waiting=*/false);
  if (pause_) return MaybeAnswerPause();
  if (stop_requested_) return Done();
  NextBatch();
}

void SimWorker::MaybeAnswerPause() {
  if (!pause_ || in_flight_) return;
  paused_ = true;
  SendToScheduler(wire::PausedMsg{*pause_, progress_});
  pause_.reset();
}

}  // namespace embedps::sim

namespace embedps::sim {

bool SimWorker::BlockedOnClock() {
  const int32_t k = env_.shape.staleness;
  if (k < 0 || clock_ <= known_min_ + static_cast<uint64_t>(k)) {
    clock_wait_ = false;
    return false;
  }
  if (!clock_wait_) {
    clock_wait_ = true;
    RepeatWaitingReport(++clock_waits_);
  }
  return true;
}

void SimWorker::RepeatWaitingReport(uint64_t round) {
  // Repeated while blocked: an update lost to a scheduler restart must not
  // block the worker forever.
  if (round != clock_waits_ || !clock_wait_ || exited_) return;
  ReportClock(/*waiting=*/true);
  env_.world.At(std::chrono::milliseconds(500), address_, [this, round] { RepeatWaitingReport(round); });
}

void SimWorker::ReportClock(bool waiting) {
  if (env_.shape.staleness < 0 || !registered_ || (!waiting && progress_.clock <= reported_clock_)) return;
  reported_clock_ = progress_.clock;
  SendToScheduler(wire::ClockReportMsg{progress_.clock, waiting});
}

void SimWorker::OnClockUpdate(uint64_t min_clock) {
  known_min_ = std::max(known_min_, min_clock);
  if (min_clock > clock_) {
    // Counted at the slowest worker's clock from now on (it joined late or
    // waited for work).
    const uint64_t jump = min_clock - clock_;
    clock_ += jump;
    progress_.clock += jump;
    reported_clock_ = std::max(reported_clock_, progress_.clock);
  }
  if (clock_wait_) NextBatch();
}

}  // namespace embedps::sim
