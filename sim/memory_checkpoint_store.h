// The simulator's checkpoint store: manifests and server files kept in
// memory. A simulated server "writes" its file here; CheckComplete and
// LatestUsable apply the same rules as the directory store (every rank's
// file of that checkpoint present, the whole chain intact).
#pragma once

#include <map>
#include <string>
#include <unordered_map>

#include "scheduler/checkpoint_store.h"

namespace embedps::sim {

// A server's rows in the simulator: how often each line of each lease was
// applied (key: lease << 32 | line).
using LineCounts = std::unordered_map<uint64_t, uint32_t>;
inline uint64_t LineKey(uint32_t lease, uint64_t line) { return (uint64_t{lease} << 32) | line; }

struct SimFile {
  uint64_t checkpoint_id = 0;
  uint32_t rank = 0;
  LineCounts rows;  // the server's whole state at the cut
};

class MemoryCheckpointStore final : public scheduler::CheckpointStore {
 public:
  explicit MemoryCheckpointStore(std::string root) : root_(std::move(root)) {}

  void PutFile(const std::string& path, SimFile file) { files_[path] = std::move(file); }
  const SimFile* File(const std::string& path) const;
  const std::map<uint64_t, scheduler::Manifest>& manifests() const { return manifests_; }
  // Called with each manifest before it is recorded (the simulator's
  // consistency check); empty: none.
  std::function<void(const scheduler::Manifest&)> on_manifest;

  const std::string& root() const override { return root_; }
  Status Prepare() override { return Status::OK(); }
  bool Exists() const override { return true; }
  std::vector<uint64_t> List() const override;
  StatusOr<scheduler::Manifest> LatestUsable(std::vector<std::string>* skipped) const override;
  Status CheckComplete(const scheduler::Manifest& m) const override;
  Status WriteManifest(const scheduler::Manifest& m) override;
  StatusOr<std::vector<std::vector<std::string>>> ChainFiles(const scheduler::Manifest& m,
                                                             const std::vector<bool>& shards) const override;
  void Remove(uint64_t id) override;
  size_t RemoveIncomplete(uint64_t below) override;
  size_t Prune(uint32_t keep) override;

 private:
  std::string DirOf(uint64_t id) const { return scheduler::CheckpointDir(root_, id); }

  std::string root_;
  std::map<uint64_t, scheduler::Manifest> manifests_;
  std::map<std::string, SimFile> files_;
};

}  // namespace embedps::sim
