// Replication (--replicas=2): when server r dies, its rows are not taken
// from the last checkpoint but from its backup r+1, which applied every push
// r acknowledged. The scheduler asks the neighbours for handoff files:
//   - the backup (r+1) writes its copy of r's rows and the request ids
//     applied to them (so a worker's resent push is not applied twice);
//   - the server r backed up (r-1) stops applying pushes (their copy died
//     with r) and writes its rows, which seed the replacement's copy.
// With two servers both neighbours are the same server. The replacement
// restores from these files; if a neighbour dies too, it falls back to the
// checkpoint.
#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {

Status SchedulerCore::StartHandoff(uint32_t rank) {
  const uint32_t backup = shard_map_.BackupOf(rank);
  const uint32_t backed_up = shard_map_.BackedUpBy(rank);
  std::vector<uint32_t> asked;
  for (const auto& [id, node] : members_.all()) {
    if (IsServing(node) && (node.rank == backup || node.rank == backed_up)) asked.push_back(id);
  }
  const auto msg = handoffs_.Begin(rank, asked);
  if (!msg) {
    LOG(WARNING) << "no live neighbour holds a copy of server " << rank
                 << "'s rows; its replacement restores the last checkpoint";
    return Status::OK();
  }
  for (uint32_t id : asked) RETURN_IF_ERROR(SendTo(*members_.Find(id), *msg));
  LOG(INFO) << "handoff " << msg->id << ": asking server " << backup << " for its copy of server " << rank
            << "'s rows" << (backup == backed_up ? " and for its own" : " and server " +
                                                                            std::to_string(backed_up) +
                                                                            " for its rows");
  return Status::OK();
}

Status SchedulerCore::OnHandoffReply(Node& node, const wire::Message& msg) {
  const auto& r = std::get<wire::HandoffReplyMsg>(msg.body);
  const auto progress = handoffs_.OnReply(node.id, r);
  if (!progress) return Status::OK();
  if (!r.ok) LOG(ERROR) << "handoff " << r.id << " failed on " << Describe(node) << ": " << r.error;
  char text[200];
  std::snprintf(text, sizeof(text), "%s wrote its part of server %u's handoff: %llu rows in %.2f s",
                Describe(node).c_str(), progress->rank, static_cast<unsigned long long>(r.rows), r.seconds);
  LOG(INFO) << text;
  RecordEvent("handoff", text);
  return progress->complete ? PromoteStandbys() : Status::OK();
}

void SchedulerCore::FailHandoffsWaitingOn(const Node& node) {
  for (uint32_t rank : handoffs_.NodeDied(node.id)) {
    LOG(ERROR) << Describe(node) << " died during the handoff of server " << rank
               << "; its replacement restores the last checkpoint";
  }
}

}  // namespace embedps::scheduler
