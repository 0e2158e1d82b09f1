#include "sim/memory_checkpoint_store.h"

#include <set>

namespace embedps::sim {

const SimFile* MemoryCheckpointStore::File(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

std::vector<uint64_t> MemoryCheckpointStore::List() const {
  std::vector<uint64_t> ids;
  for (const auto& [id, m] : manifests_) ids.push_back(id);
  return ids;
}

Status MemoryCheckpointStore::CheckComplete(const scheduler::Manifest& m) const {
  for (uint32_t r = 0; r < m.num_servers; ++r) {
    const std::string path = DirOf(m.id) + "/" + scheduler::ServerFileName(r);
    const SimFile* f = File(path);
    if (f == nullptr) return DataLoss("checkpoint " + std::to_string(m.id) + " has no file of server " + std::to_string(r));
    if (f->checkpoint_id != m.id || f->rank != r) return DataLoss(path + " belongs to another checkpoint or rank");
  }
  return Status::OK();
}

StatusOr<scheduler::Manifest> MemoryCheckpointStore::LatestUsable(std::vector<std::string>* skipped) const {
  for (auto it = manifests_.rbegin(); it != manifests_.rend(); ++it) {
    Status st;
    for (uint64_t id : it->second.chain) {
      auto level = manifests_.find(id);
      st = level == manifests_.end() ? DataLoss("checkpoint " + std::to_string(id) + " of the chain is gone")
                                     : CheckComplete(level->second);
      if (!st.ok()) break;
    }
    if (st.ok()) return it->second;
    if (skipped != nullptr) skipped->push_back("checkpoint " + std::to_string(it->first) + " is unusable: " + st.message());
  }
  return NotFound("no usable checkpoint in " + root_);
}

Status MemoryCheckpointStore::WriteManifest(const scheduler::Manifest& m) {
  if (on_manifest) on_manifest(m);
  manifests_[m.id] = m;
  return Status::OK();
}

StatusOr<std::vector<std::vector<std::string>>> MemoryCheckpointStore::ChainFiles(
    const scheduler::Manifest& m, const std::vector<bool>& shards) const {
  std::vector<std::vector<std::string>> levels;
  for (uint64_t id : m.chain) {
    auto it = id == m.id ? manifests_.end() : manifests_.find(id);
    const scheduler::Manifest& level = id == m.id ? m : (it == manifests_.end() ? m : it->second);
    if (id != m.id && it == manifests_.end()) return DataLoss("checkpoint " + std::to_string(id) + " is gone");
    std::vector<std::string> files;
    for (const auto& f : scheduler::FilesHolding(level, shards)) files.push_back(DirOf(id) + "/" + f);
    levels.push_back(std::move(files));
  }
  return levels;
}

void MemoryCheckpointStore::Remove(uint64_t id) {
  const std::string dir = DirOf(id) + "/";
  for (auto it = files_.begin(); it != files_.end();) {
    it = it->first.compare(0, dir.size(), dir) == 0 ? files_.erase(it) : std::next(it);
  }
  manifests_.erase(id);
}

size_t MemoryCheckpointStore::RemoveIncomplete(uint64_t below) {
  std::set<uint64_t> orphans;
  for (const auto& [path, f] : files_) {
    if (f.checkpoint_id < below && manifests_.count(f.checkpoint_id) == 0) orphans.insert(f.checkpoint_id);
  }
  for (uint64_t id : orphans) Remove(id);
  return orphans.size();
}

size_t MemoryCheckpointStore::Prune(uint32_t keep) {
  if (manifests_.size() <= keep) return 0;
  std::set<uint64_t> needed;
  size_t kept = 0;
  for (auto it = manifests_.rbegin(); it != manifests_.rend() && kept < keep; ++it, ++kept) {
    needed.insert(it->second.chain.begin(), it->second.chain.end());
  }
  std::vector<uint64_t> gone;
  for (const auto& [id, m] : manifests_) {
    if (needed.count(id) == 0) gone.push_back(id);
  }
  for (uint64_t id : gone) Remove(id);
  return gone.size();
}

}  // namespace embedps::sim
