#include "scheduler/checkpoint_store.h"

#include <filesystem>

namespace embedps::scheduler {
namespace {

class DirectoryStore final : public CheckpointStore {
 public:
  explicit DirectoryStore(std::string root) : root_(std::move(root)) {}

  const std::string& root() const override { return root_; }
  Status Prepare() override {
    std::error_code ec;
    std::filesystem::create_directories(root_, ec);
    if (ec) return Unavailable("cannot create --checkpoint_dir " + root_ + ": " + ec.message());
    return Status::OK();
  }
  bool Exists() const override {
    std::error_code ec;
    return std::filesystem::is_directory(root_, ec);
  }
  std::vector<uint64_t> List() const override { return ListCheckpoints(root_); }
  StatusOr<Manifest> LatestUsable(std::vector<std::string>* skipped) const override {
    return LatestUsableCheckpoint(root_, skipped);
  }
  Status CheckComplete(const Manifest& m) const override {
    return scheduler::CheckComplete(root_, m, /*deep=*/false);
  }
  Status WriteManifest(const Manifest& m) override { return scheduler::WriteManifest(root_, m); }
  StatusOr<std::vector<std::vector<std::string>>> ChainFiles(const Manifest& m,
                                                             const std::vector<bool>& shards) const override {
    return scheduler::ChainFiles(root_, m, shards);
  }
  void Remove(uint64_t id) override { RemoveCheckpointDir(root_, id); }
  size_t RemoveIncomplete(uint64_t below) override { return RemoveIncompleteCheckpoints(root_, below); }
  size_t Prune(uint32_t keep) override { return PruneCheckpoints(root_, keep); }

 private:
  std::string root_;
};

}  // namespace

std::unique_ptr<CheckpointStore> DirectoryCheckpointStore(std::string root) {
  return std::make_unique<DirectoryStore>(std::move(root));
}

}  // namespace embedps::scheduler
