#include "scheduler/scheduler.h"

#include "common/flags/node_flags.h"

#include <cstdio>
#include <fstream>

#include <glog/logging.h>

#include "common/security/socket_security.h"
#include "common/stop_signal.h"
#include "common/transport.h"

namespace embedps::scheduler {

Scheduler::Scheduler(zmq::context_t& ctx, SchedulerOptions options, MetricsRegistry* metrics,
                     StatusBoard* board)
    : ctx_(ctx),
      board_(board),
      core_(std::move(options), metrics, board),
      router_(ctx, zmq::socket_type::router),
      metrics_(metrics) {
  ConfigureSocket(router_, core_.options().limits.max_message_bytes);
}

Status Scheduler::Bind() {
  const SchedulerOptions& o = core_.options();
  if (o.curve.enabled()) {
    ASSIGN_OR_RETURN(zap_, security::ZapHandler::Start(ctx_, o.curve.allowed,
                                                       o.curve.dir + "/" + security::kAllowListFile, metrics_));
    RETURN_IF_ERROR(zap_->WatchHandshakes(router_, "scheduler"));
    RETURN_IF_ERROR(security::SecureBindingSocket(router_, o.curve));
  }
  ASSIGN_OR_RETURN(const std::string endpoint, BindSocket(router_, o.bind_endpoint));
  core_.SetEndpoint(endpoint);
  LOG(INFO) << "scheduler listening on " << endpoint << "; waiting for " << o.num_servers << " servers and "
            << o.num_workers << " workers; "
            << (core_.partitions() ? core_.partitions()->total() : 0) << " partitions x " << o.passes << " passes; "
            << (o.curve.enabled() ? "CURVE on, " + std::to_string(o.curve.allowed->size()) + " keys allowed (" +
                                        o.curve.dir + ")"
                                  : std::string("CURVE off (plain text)"));
  if (o.endpoint_file.empty()) return Status::OK();
  const std::string tmp = o.endpoint_file + ".tmp";
  {
    std::ofstream out(tmp);
    out << endpoint << "\n";
    if (!out) return Unavailable("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), o.endpoint_file.c_str()) != 0) return Unavailable("cannot write " + o.endpoint_file);
  return Status::OK();
}

void Scheduler::Flush() {
  for (Outgoing& out : core_.TakeOutbox()) {
    zmq::message_t rid(out.to.data(), out.to.size());
    const Status st = SendMessage(router_, out.header, out.body, {}, &rid);
    if (!st.ok()) LOG(WARNING) << "send to a node failed: " << st.message();
  }
}

Status Scheduler::Run() {
  RETURN_IF_ERROR(core_.Start(Clock::now()));
  RETURN_IF_ERROR(Bind());
  MarkNodeReady();  // /readyz: nodes can join now
  Status result;
  while (!core_.finished() && result.ok()) {
    Incoming in;
    if (ReceiveMessage(router_, /*router=*/true, std::chrono::milliseconds(50), core_.options().limits, &in)) {
      Inbound event{std::string(static_cast<const char*>(in.routing_id.data()), in.routing_id.size()),
                    std::move(in.peer_address),
                    std::move(in.key_name),
                    std::move(in.key_role),
                    std::move(in.status),
                    std::move(in.message)};
      result = core_.OnMessage(event, Clock::now());
    }
    if (result.ok() && StopSignalled() && !stop_signal_seen_) {
      // SIGTERM (a process manager stopping the job): as POST /stop.
      stop_signal_seen_ = true;
      result = core_.OnStopRequest("SIGTERM", Clock::now());
    }
    if (result.ok() && board_ != nullptr) {
      if (auto reason = board_->TakeStopRequest()) result = core_.OnStopRequest(*reason, Clock::now());
      if (board_->TakeCheckpointRequest()) core_.RequestCheckpoint();
    }
    if (result.ok()) result = core_.OnTick(Clock::now());
    Flush();
  }
  const Status outcome = core_.Finish(result, Clock::now());
  Flush();
  // Give the shutdown messages time to leave before the socket closes.
  router_.set(zmq::sockopt::linger, 2000);
  return outcome;
}

}  // namespace embedps::scheduler
