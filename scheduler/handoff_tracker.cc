#include "scheduler/handoff_tracker.h"

namespace embedps::scheduler {

std::optional<wire::HandoffMsg> HandoffTracker::Begin(uint32_t rank, const std::vector<uint32_t>& asked) {
  if (asked.empty()) return std::nullopt;
  Run run;
  run.id = next_id_++;
  run.directory = checkpoint_dir_ + "/handoff-" + std::to_string(run.id) + "-server-" + std::to_string(rank);
  run.waiting.insert(asked.begin(), asked.end());
  wire::HandoffMsg msg{run.id, rank, run.directory};
  runs_[rank] = std::move(run);
  return msg;
}

std::optional<HandoffTracker::Progress> HandoffTracker::OnReply(uint32_t node_id,
                                                               const wire::HandoffReplyMsg& reply) {
  for (auto& [rank, run] : runs_) {
    if (run.id != reply.id || run.waiting.erase(node_id) == 0) continue;
    if (!reply.ok) run.failed = true;
    // The backup sends the copy (and its request ids), the other neighbour
    // its own rows; with two servers one neighbour sends both.
    if (!reply.replica_file.empty()) {
      run.files.replica_file = reply.replica_file;
      run.files.dedup_file = reply.dedup_file;
    }
    if (!reply.primary_file.empty()) run.files.primary_file = reply.primary_file;
    run.files.rows += reply.rows;
    return Progress{rank, run.waiting.empty()};
  }
  return std::nullopt;  // a late answer to a handoff already used or given up
}

std::vector<uint32_t> HandoffTracker::NodeDied(uint32_t node_id) {
  std::vector<uint32_t> failed;
  for (auto& [rank, run] : runs_) {
    if (run.waiting.erase(node_id) > 0) {
      run.failed = true;
      failed.push_back(rank);
    }
  }
  return failed;
}

bool HandoffTracker::Pending(uint32_t rank) const {
  auto it = runs_.find(rank);
  return it != runs_.end() && !it->second.waiting.empty();
}

bool HandoffTracker::Use(wire::RestoreMsg* msg) {
  auto it = runs_.find(msg->rank);
  if (it == runs_.end()) return false;
  Run run = std::move(it->second);
  runs_.erase(it);
  if (run.failed || run.files.replica_file.empty() || run.files.primary_file.empty()) return false;
  msg->checkpoint_id = 0;
  msg->chain = {{run.files.replica_file}};
  msg->replica_chain = {{run.files.primary_file}};
  msg->dedup_file = run.files.dedup_file;
  restored_[msg->rank] = run.directory;
  return true;
}

std::optional<std::string> HandoffTracker::Finish(uint32_t rank) {
  auto it = restored_.find(rank);
  if (it == restored_.end()) return std::nullopt;
  std::string directory = std::move(it->second);
  restored_.erase(it);
  return directory;
}

}  // namespace embedps::scheduler
