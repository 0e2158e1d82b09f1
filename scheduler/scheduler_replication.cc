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
#include <filesystem>

#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {

Status SchedulerCore::StartHandoff(uint32_t rank) {
  const uint32_t backup = shard_map_.BackupOf(rank);
  const uint32_t backed_up = shard_map_.BackedUpBy(rank);
  HandoffRun run;
  run.id = next_handoff_id_++;
  run.directory = options_.checkpoint_dir + "/handoff-" + std::to_string(run.id) + "-server-" +
                  std::to_string(rank);
  wire::HandoffMsg msg{run.id, rank, run.directory};
  for (auto& [id, node] : nodes_) {
    if (!IsServing(node) || (node.rank != backup && node.rank != backed_up)) continue;
    RETURN_IF_ERROR(SendTo(node, msg));
    run.waiting.insert(id);
  }
  if (run.waiting.empty()) {
    LOG(WARNING) << "no live neighbour holds a copy of server " << rank
                 << "'s rows; its replacement restores the last checkpoint";
    return Status::OK();
  }
  LOG(INFO) << "handoff " << run.id << ": asking server " << backup << " for its copy of server " << rank
            << "'s rows" << (backup == backed_up ? " and for its own" : " and server " +
                                                                            std::to_string(backed_up) +
                                                                            " for its rows");
  handoffs_[rank] = std::move(run);
  return Status::OK();
}

Status SchedulerCore::OnHandoffReply(Node& node, const wire::Message& msg) {
  const auto& r = std::get<wire::HandoffReplyMsg>(msg.body);
  for (auto& [rank, run] : handoffs_) {
    if (run.id != r.id || run.waiting.erase(node.id) == 0) continue;
    if (!r.ok) {
      run.failed = true;
      LOG(ERROR) << "handoff " << r.id << " failed on " << Describe(node) << ": " << r.error;
    }
    if (!r.replica_file.empty()) {
      run.files.replica_file = r.replica_file;
      run.files.dedup_file = r.dedup_file;
    }
    if (!r.primary_file.empty()) run.files.primary_file = r.primary_file;
    run.files.rows += r.rows;
    char text[200];
    std::snprintf(text, sizeof(text), "%s wrote its part of server %u's handoff: %llu rows in %.2f s",
                  Describe(node).c_str(), rank, static_cast<unsigned long long>(r.rows), r.seconds);
    LOG(INFO) << text;
    RecordEvent("handoff", text);
    if (run.waiting.empty()) return PromoteStandbys();
    return Status::OK();
  }
  return Status::OK();
}

bool SchedulerCore::HandoffPending(uint32_t rank) const {
  auto it = handoffs_.find(rank);
  return it != handoffs_.end() && !it->second.waiting.empty();
}

void SchedulerCore::FailHandoffsWaitingOn(const Node& node) {
  for (auto& [rank, run] : handoffs_) {
    if (run.waiting.erase(node.id) > 0) {
      run.failed = true;
      LOG(ERROR) << Describe(node) << " died during the handoff of server " << rank
                 << "; its replacement restores the last checkpoint";
    }
  }
}

bool SchedulerCore::UseHandoff(wire::RestoreMsg* msg) {
  auto it = handoffs_.find(msg->rank);
  if (it == handoffs_.end()) return false;
  HandoffRun run = std::move(it->second);
  handoffs_.erase(it);
  if (run.failed || run.files.replica_file.empty() || run.files.primary_file.empty()) return false;
  msg->checkpoint_id = 0;
  msg->chain = {{run.files.replica_file}};
  msg->replica_chain = {{run.files.primary_file}};
  msg->dedup_file = run.files.dedup_file;
  handoff_dirs_[msg->rank] = run.directory;
  return true;
}

}  // namespace embedps::scheduler
