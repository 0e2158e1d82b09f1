// --replicas=2: the handoffs of dead servers' rows from their neighbours
// (docs/fault-tolerance.md). When server r dies, its backup r+1 writes its
// copy of r's rows and r-1 writes its own rows (the replacement's copy of
// them); r's replacement restores from those files instead of the
// checkpoint. This tracks which handoffs wait on whom, merges the answers,
// and gives the files to the replacement's restore. Pure state: the core
// sends the messages (tests/unit/scheduler/handoff_tracker_test.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/wire/messages.h"

namespace embedps::scheduler {

class HandoffTracker {
 public:
  // Handoff files go into directories under `checkpoint_dir`.
  explicit HandoffTracker(std::string checkpoint_dir) : checkpoint_dir_(std::move(checkpoint_dir)) {}

  // Starts the handoff of dead server `rank`, asking the live neighbours
  // `asked` (node ids). Returns the message to send them, or nothing when
  // no neighbour lives (the replacement restores the checkpoint).
  std::optional<wire::HandoffMsg> Begin(uint32_t rank, const std::vector<uint32_t>& asked);

  // A neighbour's answer to handoff `reply.id`.
  struct Progress {
    uint32_t rank = 0;  // whose rows
    bool complete = false;  // every neighbour answered
  };
  std::optional<Progress> OnReply(uint32_t node_id, const wire::HandoffReplyMsg& reply);

  // Neighbour `node_id` died: the handoffs waiting on it fail (their
  // replacements fall back to the checkpoint). Returns those ranks.
  std::vector<uint32_t> NodeDied(uint32_t node_id);

  // True while the handoff for `rank` waits for a neighbour.
  bool Pending(uint32_t rank) const;
  // True while `rank`'s rows are handed off: from the request until its
  // replacement serves. A stalled server coming back can no longer take
  // its rank back then (the neighbours stopped forwarding to it).
  bool Involves(uint32_t rank) const { return runs_.count(rank) > 0 || restored_.count(rank) > 0; }

  // Fills `msg` (a restore for msg->rank) from the finished handoff for its
  // rank and returns true; false when there is none or it failed (the
  // replacement restores the checkpoint).
  bool Use(wire::RestoreMsg* msg);
  // The replacement of `rank` serves. Returns the directory of the handoff
  // files it restored (for the caller to remove), if it restored from one.
  std::optional<std::string> Finish(uint32_t rank);

 private:
  struct Run {
    uint64_t id = 0;
    std::string directory;
    std::set<uint32_t> waiting;  // node ids yet to answer
    bool failed = false;
    wire::HandoffReplyMsg files;  // merged answers
  };

  std::string checkpoint_dir_;
  std::map<uint32_t, Run> runs_;  // by dead rank
  std::map<uint32_t, std::string> restored_;  // rank -> directory its replacement restores
  uint64_t next_id_ = 1;
};

}  // namespace embedps::scheduler
