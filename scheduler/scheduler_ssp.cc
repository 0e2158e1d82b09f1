// Bounded staleness: the scheduler keeps every worker's clock and sends the
// minimum to the workers that run with --max_staleness whenever it
// advances. See docs/architecture.md, "Consistency".
#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {

Status SchedulerCore::OnClockReport(Node& node, const wire::Message& msg) {
  const auto& report = std::get<wire::ClockReportMsg>(msg.body);
  if (node.role != wire::Role::kWorker) return Internal("a server reported a clock");
  if (node.done || node.dead) return Status::OK();
  clocks_.Report(node.id, report.clock);
  clocks_.Subscribe(node.id);
  if (!report.waiting) return Status::OK();
  // A blocked worker may have missed an update (it resends while it waits):
  // answer with the minimum as it stands, after counting this report.
  RETURN_IF_ERROR(PublishMinClock());
  if (auto min = clocks_.Min()) return SendTo(node, wire::ClockUpdateMsg{*min});
  return Status::OK();
}

Status SchedulerCore::SetWorkerActive(const Node& node, bool active) {
  if (auto jump = clocks_.SetActive(node.id, active)) {
    LOG(INFO) << Describe(node) << " starts at clock " << *jump << ", the slowest worker's";
    return SendTo(node, wire::ClockUpdateMsg{*jump});
  }
  return Status::OK();
}

Status SchedulerCore::PublishMinClock() {
  clock_spread_->Set(static_cast<double>(clocks_.Spread()));
  const auto min = clocks_.TakeAdvance();
  if (!min) return Status::OK();
  min_clock_->Set(static_cast<double>(*min));
  for (uint32_t id : clocks_.Subscribers()) {
    const Node* node = members_.Find(id);
    if (node != nullptr && !node->dead) RETURN_IF_ERROR(SendTo(*node, wire::ClockUpdateMsg{*min}));
  }
  return Status::OK();
}

}  // namespace embedps::scheduler
