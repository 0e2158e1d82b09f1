// Where a job's checkpoints live, as the scheduler's protocol sees them:
// the manifests it writes and the server files it checks. The daemon's
// store is a directory (manifest.h: ROOT/ckpt-NNNNNNNN/); the simulator
// (sim/) keeps one in memory, where its servers "write" their files and
// where a write can fail on purpose.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "scheduler/manifest.h"

namespace embedps::scheduler {

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;

  // The root the servers are told to write under (CheckpointDir(root, id)).
  virtual const std::string& root() const = 0;
  // Creates the root if needed.
  virtual Status Prepare() = 0;
  virtual bool Exists() const = 0;
  // Ids of checkpoints with a manifest, oldest first.
  virtual std::vector<uint64_t> List() const = 0;
  // The newest checkpoint whose whole chain is intact; each one passed
  // over is described in *skipped. NotFound when there is none.
  virtual StatusOr<Manifest> LatestUsable(std::vector<std::string>* skipped) const = 0;
  // OK when every rank's file of `m` is there and is that rank's file of
  // this checkpoint; DataLoss naming what is missing or wrong.
  virtual Status CheckComplete(const Manifest& m) const = 0;
  // Records `m` as complete (atomically).
  virtual Status WriteManifest(const Manifest& m) = 0;
  // The files a restore of `m` replays, by level: of each level those that
  // can hold rows of the virtual shards flagged in `shards` (FilesHolding).
  virtual StatusOr<std::vector<std::vector<std::string>>> ChainFiles(const Manifest& m,
                                                                     const std::vector<bool>& shards) const = 0;
  // Removes checkpoint `id`'s files (an abandoned one).
  virtual void Remove(uint64_t id) = 0;
  // Removes checkpoints below `below` that have no manifest; how many.
  virtual size_t RemoveIncomplete(uint64_t below) = 0;
  // Keeps the newest `keep` and what their chains need; how many went.
  virtual size_t Prune(uint32_t keep) = 0;
};

// The store of a directory on disk (manifest.h's functions).
std::unique_ptr<CheckpointStore> DirectoryCheckpointStore(std::string root);

}  // namespace embedps::scheduler
