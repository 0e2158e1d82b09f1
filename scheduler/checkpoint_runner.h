// One checkpoint at a time, in stages (docs/fault-tolerance.md):
//   pausing  every training worker stops at a batch boundary, waits until
//            its pushes are acknowledged and reports its lease position;
//   cutting  every server sets its cut (fast: no copying) and answers;
//   writing  workers resume at once; servers write their files in the
//            background while training goes on;
// then the manifest is written (atomically) and old checkpoints pruned.
// Pausing makes a checkpoint consistent: it holds exactly the pushes of the
// lines its manifest records as trained.
//
// The runner owns the running checkpoint, the choice of full or delta, the
// ids, and the newest complete manifest. It sends nothing itself: it
// returns the messages for the core to send, and the core advances it when
// it is ready for its next stage. Its store is an interface (a directory,
// or the simulator's memory). Unit-tested with scripted replies and a fake
// clock (tests/unit/scheduler/checkpoint_runner_test.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "common/transport.h"
#include "common/wire/messages.h"
#include "scheduler/checkpoint_store.h"
#include "scheduler/manifest.h"

namespace embedps::scheduler {

// A message for node `node` (by id).
struct NodeMessage {
  uint32_t node = 0;
  wire::Body body;
};

class CheckpointRunner {
 public:
  enum class Stage { kPausing, kCutting, kWriting };
  struct Settings {
    uint32_t full_every = 4;  // every Nth checkpoint is full; 1: always
    uint32_t keep = 3;        // complete checkpoints kept
  };
  // What the cut records besides the servers' files, as of the moment
  // every worker paused.
  struct CutFacts {
    nlohmann::json partitions;
    wire::Progress progress;
    nlohmann::json failovers = nlohmann::json::array();
    uint64_t lost_rows = 0;
    double lost_seconds = 0;
    double created_unix = 0;
  };
  // A checkpoint recorded complete.
  struct Written {
    Manifest manifest;
    std::string reason;
    Clock::time_point started;
    double max_stall = 0;  // longest request stall a server saw while writing
    size_t pruned = 0;     // old checkpoints removed
  };
  // A checkpoint given up: the paused workers to resume.
  struct Abandoned {
    uint64_t id = 0;
    std::string reason;
    std::vector<NodeMessage> resumes;
  };

  CheckpointRunner(CheckpointStore* store, Settings settings) : store_(store), settings_(settings) {}
  // The store arrives after construction (the core creates the directory
  // store in its setup).
  void set_store(CheckpointStore* store) { store_ = store; }

  // This job's checkpoints come after an earlier job's `newest`.
  void NumberAfter(uint64_t newest) { next_id_ = newest + 1; }
  // --resume from `m`; `newest`: the newest id in the store (damaged ones
  // included, so none is overwritten). The next one is full: server files
  // of another topology cannot anchor deltas of this one.
  void ResumedFrom(const Manifest& m, uint64_t newest);
  // The next checkpoint is full (a failover: deltas must not span lost
  // updates).
  void ForceFull() { force_full_ = true; }
  uint64_t next_id() const { return next_id_; }
  // The newest complete checkpoint.
  const std::optional<Manifest>& last() const { return last_; }

  bool running() const { return run_.has_value(); }
  std::optional<Stage> stage() const { return run_ ? std::optional<Stage>(run_->stage) : std::nullopt; }
  Clock::time_point started() const { return run_ ? run_->started : Clock::time_point(); }

  // Starts checkpoint `reason`: `skeleton` carries the job's fields (map
  // epoch, servers, config, model). Returns the pauses for `workers`.
  std::vector<NodeMessage> Begin(Manifest skeleton, const std::string& reason, Clock::time_point now,
                                 const std::vector<uint32_t>& workers);
  // A worker paused for checkpoint `id`: false when that one is not
  // running any more (an abandoned one; the worker must be resumed).
  bool OnPaused(uint32_t node, uint64_t id);
  // A worker died: a pause need not wait for it.
  void WorkerGone(uint32_t node);
  // Every worker paused: this is the cut. Returns the cut requests for
  // `servers`, into `directory`.
  bool ReadyToCut() const { return run_ && run_->stage == Stage::kPausing && run_->waiting.empty(); }
  std::vector<NodeMessage> Cut(CutFacts facts, const std::vector<uint32_t>& servers, const std::string& directory);

  // A server's answer. Error: it could not cut or write (the caller
  // abandons the checkpoint with it). A late or stray answer is ignored.
  Status OnReply(uint32_t node, const wire::CheckpointReplyMsg& reply);
  // Every server cut: the paused workers still `alive` resume, and the
  // servers write.
  bool ReadyToResume() const { return run_ && run_->stage == Stage::kCutting && run_->waiting.empty(); }
  std::vector<NodeMessage> Resume(Clock::time_point now, const std::vector<uint32_t>& servers,
                                  const std::function<bool(uint32_t)>& alive);
  // Every server wrote: checks the files and writes the manifest. Not OK:
  // it is incomplete, and still running for the caller to abandon.
  bool ReadyToFinish() const { return run_ && run_->stage == Stage::kWriting && run_->waiting.empty(); }
  StatusOr<Written> Finish(Clock::time_point now);

  // Gives the running checkpoint up (its files are removed; the next one
  // is full); paused workers still `alive` are resumed.
  std::optional<Abandoned> Abandon(const std::function<bool(uint32_t)>& alive);

 private:
  struct Run {
    Manifest manifest;
    Stage stage = Stage::kPausing;
    std::string reason;
    Clock::time_point started;
    std::set<uint32_t> waiting;    // node ids whose answer is due
    std::vector<uint32_t> paused;  // workers to resume
    double max_stall = 0;
  };
  std::vector<NodeMessage> ResumeMessages(const std::function<bool(uint32_t)>& alive) const;

  CheckpointStore* store_;
  Settings settings_;
  std::optional<Run> run_;
  std::optional<Manifest> last_;
  uint64_t next_id_ = 1;
  uint32_t deltas_since_full_ = 0;
  bool force_full_ = true;
};

}  // namespace embedps::scheduler
