#include "scheduler/manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <glog/logging.h>

#include "ps/checkpoint/cut_file.h"

namespace embedps::scheduler {
namespace {

namespace fs = std::filesystem;
constexpr char kManifestName[] = "MANIFEST.json";
constexpr int kManifestVersion = 1;

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return Unavailable("cannot open " + path + " to sync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Unavailable("fsync of " + path + " failed");
  return Status::OK();
}

nlohmann::json ProgressJson(const wire::Progress& p) {
  return {{"rows", p.rows},
          {"loss_sum", p.loss_sum},
          {"lines_read", p.lines_read},
          {"bad_lines", p.bad_lines},
          {"skipped_lines", p.skipped_lines}};
}

}  // namespace

std::string CheckpointDir(const std::string& root, uint64_t id) {
  char name[32];
  std::snprintf(name, sizeof(name), "ckpt-%08llu", static_cast<unsigned long long>(id));
  return root + "/" + name;
}

Status CheckSameModel(const nlohmann::json& checkpoint_model, const nlohmann::json& job_model) {
  if (checkpoint_model.is_null() || job_model.is_null()) return Status::OK();
  std::string differences;
  auto compare = [&](const std::string& name, const nlohmann::json& a, const nlohmann::json& b) {
    if (a == b) return;
    differences += (differences.empty() ? "" : "; ") + name + ": " + a.dump() + " in the checkpoint, " +
                   b.dump() + " in this job";
  };
  const nlohmann::json none;
  const auto& a_spec = checkpoint_model.contains("spec") ? checkpoint_model["spec"] : none;
  const auto& b_spec = job_model.contains("spec") ? job_model["spec"] : none;
  if (a_spec.is_object() && b_spec.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a_spec.items()) keys.insert(k);
    for (const auto& [k, v] : b_spec.items()) keys.insert(k);
    for (const auto& k : keys) {
      compare("spec." + k, a_spec.contains(k) ? a_spec[k] : none, b_spec.contains(k) ? b_spec[k] : none);
    }
  } else {
    compare("spec", a_spec, b_spec);
  }
  for (const char* k : {"data_format", "tables"}) {
    compare(k, checkpoint_model.contains(k) ? checkpoint_model[k] : none, job_model.contains(k) ? job_model[k] : none);
  }
  if (differences.empty()) return Status::OK();
  return FailedPrecondition("the checkpoint holds another model than this job trains (" + differences +
                            "); resume with the model flags it was trained with, or with none");
}

Status WriteManifest(const std::string& root, const Manifest& m) {
  nlohmann::json j = {{"format_version", kManifestVersion},
                      {"id", m.id},
                      {"kind", m.delta ? "delta" : "full"},
                      {"chain", m.chain},
                      {"created_unix", m.created_unix},
                      {"shard_map", {{"epoch", m.shard_map_epoch},
                                     {"num_servers", m.num_servers},
                                     {"num_virtual_shards", m.num_virtual_shards},
                                     {"owners", m.owners}}},
                      {"files", m.files},
                      {"partitions", m.partitions},
                      {"progress", ProgressJson(m.progress)},
                      {"config", m.config},
                      {"rows", m.rows},
                      {"bytes", m.bytes},
                      {"seconds", m.seconds},
                      {"pause_seconds", m.pause_seconds}};
  if (!m.model.is_null()) j["model"] = m.model;
  j["failovers"] = {{"details", m.failovers}, {"lost_rows", m.lost_rows}, {"lost_training_seconds", m.lost_seconds}};
  const std::string dir = CheckpointDir(root, m.id);
  const std::string path = dir + "/" + kManifestName;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Unavailable("cannot write " + tmp + " (disk full?)");
    }
  }
  RETURN_IF_ERROR(FsyncPath(tmp, O_RDONLY));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Unavailable("cannot rename " + tmp + " to " + path);
  }
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

StatusOr<Manifest> ReadManifest(const std::string& root, uint64_t id) {
  const std::string path = CheckpointDir(root, id) + "/" + kManifestName;
  std::ifstream in(path);
  if (!in) return NotFound("no manifest " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(path + ": not valid JSON");
  try {
    if (j.at("format_version").get<int>() != kManifestVersion) {
      return DataLoss(path + ": manifest format version " + j.at("format_version").dump() +
                      ", this build reads " + std::to_string(kManifestVersion));
    }
    Manifest m;
    m.id = j.at("id").get<uint64_t>();
    m.delta = j.at("kind").get<std::string>() == "delta";
    m.chain = j.at("chain").get<std::vector<uint64_t>>();
    m.created_unix = j.at("created_unix").get<double>();
    m.shard_map_epoch = j.at("shard_map").at("epoch").get<uint64_t>();
    m.num_servers = j.at("shard_map").at("num_servers").get<uint32_t>();
    m.num_virtual_shards = j.at("shard_map").at("num_virtual_shards").get<uint32_t>();
    // Older manifests lack it: their restores read every file.
    m.owners = j.at("shard_map").value("owners", std::vector<uint32_t>{});
    m.files = j.at("files").get<std::vector<std::string>>();
    m.partitions = j.at("partitions");
    const auto& p = j.at("progress");
    m.progress.rows = p.at("rows").get<uint64_t>();
    m.progress.loss_sum = p.at("loss_sum").get<double>();
    m.progress.lines_read = p.at("lines_read").get<uint64_t>();
    m.progress.bad_lines = p.at("bad_lines").get<uint64_t>();
    m.progress.skipped_lines = p.value("skipped_lines", uint64_t{0});  // older manifests lack it
    m.config = j.value("config", nlohmann::json::object());
    m.rows = j.value("rows", uint64_t{0});
    m.bytes = j.value("bytes", uint64_t{0});
    m.seconds = j.value("seconds", 0.0);
    m.pause_seconds = j.value("pause_seconds", 0.0);
    // Checkpoints written before the model was recorded have none.
    if (j.contains("model")) m.model = j.at("model");
    if (j.contains("failovers")) {
      const auto& f = j.at("failovers");
      m.failovers = f.value("details", nlohmann::json::array());
      m.lost_rows = f.value("lost_rows", uint64_t{0});
      m.lost_seconds = f.value("lost_training_seconds", 0.0);
    }
    if (m.id != id || m.chain.empty() || m.chain.back() != id) {
      return DataLoss(path + ": manifest id and chain do not match its directory");
    }
    return m;
  } catch (const std::exception& e) {
    return DataLoss(path + ": " + e.what());
  }
}

std::vector<uint64_t> ListCheckpoints(const std::string& root) {
  std::vector<uint64_t> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ckpt-", 0) != 0) continue;
    char* end = nullptr;
    const unsigned long long id = std::strtoull(name.c_str() + 5, &end, 10);
    if (end == nullptr || *end != '\0') continue;
    if (fs::exists(entry.path() / kManifestName)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> FilesHolding(const Manifest& level, const std::vector<bool>& shards) {
  if (shards.empty() || level.owners.size() != shards.size()) return level.files;
  std::set<std::string> wanted;
  for (size_t v = 0; v < shards.size(); ++v) {
    if (shards[v]) wanted.insert(ServerFileName(level.owners[v]));
  }
  std::vector<std::string> files;
  for (const std::string& f : level.files) {
    if (wanted.count(f) > 0) files.push_back(f);
  }
  return files;
}

StatusOr<std::vector<std::vector<std::string>>> ChainFiles(const std::string& root, const Manifest& m,
                                                           const std::vector<bool>& shards) {
  std::vector<std::vector<std::string>> chain;
  for (uint64_t id : m.chain) {
    Manifest level = m;
    if (id != m.id) {
      ASSIGN_OR_RETURN(level, ReadManifest(root, id));
    }
    auto& files = chain.emplace_back();
    for (const auto& f : FilesHolding(level, shards)) files.push_back(CheckpointDir(root, id) + "/" + f);
  }
  return chain;
}

std::string ServerFileName(uint32_t rank) { return "server-" + std::to_string(rank) + ".ckpt"; }

Status CheckComplete(const std::string& root, const Manifest& m, bool deep) {
  const std::string where = "checkpoint " + std::to_string(m.id);
  if (m.num_servers == 0) return DataLoss(where + ": its manifest names no servers");
  std::set<std::string> files(m.files.begin(), m.files.end());
  for (uint32_t rank = 0; rank < m.num_servers; ++rank) {
    const std::string name = ServerFileName(rank);
    if (files.erase(name) == 0) {
      return DataLoss(where + " is incomplete: it has no file of server " + std::to_string(rank) + " (" +
                      std::to_string(m.files.size()) + " of " + std::to_string(m.num_servers) +
                      " servers' files)");
    }
    const std::string path = CheckpointDir(root, m.id) + "/" + name;
    auto cut = deep ? ps::checkpoint::VerifyCut(path) : ps::checkpoint::ReadCut(path);
    if (!cut.ok()) return cut.status().WithContext(where);
    if (cut->checkpoint_id != m.id || cut->server_rank != rank) {
      return DataLoss(path + " holds server " + std::to_string(cut->server_rank) + "'s rows of checkpoint " +
                      std::to_string(cut->checkpoint_id) + ", not server " + std::to_string(rank) + "'s of " +
                      std::to_string(m.id));
    }
  }
  if (!files.empty()) return DataLoss(where + " names an unexpected file " + *files.begin());
  return Status::OK();
}

StatusOr<Manifest> LatestUsableCheckpoint(const std::string& root, std::vector<std::string>* skipped) {
  std::vector<uint64_t> ids = ListCheckpoints(root);
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    auto m = ReadManifest(root, *it);
    Status st = m.status();
    // Every level of the chain must be whole: a restore from a checkpoint
    // missing a server's file would bring that server's rows back as new.
    for (size_t l = 0; st.ok() && l < m->chain.size(); ++l) {
      const uint64_t id = m->chain[l];
      if (id == m->id) {
        st = CheckComplete(root, *m, /*deep=*/true);
        continue;
      }
      auto level = ReadManifest(root, id);
      st = level.ok() ? CheckComplete(root, *level, /*deep=*/true) : level.status();
    }
    if (st.ok()) return m;
    const std::string why = "checkpoint " + std::to_string(*it) + " is unusable: " + st.ToString();
    LOG(WARNING) << why << "; falling back to the one before";
    if (skipped != nullptr) skipped->push_back(why);
  }
  return NotFound("no usable checkpoint under " + root);
}

void RemoveCheckpointDir(const std::string& root, uint64_t id) {
  std::error_code ec;
  fs::remove_all(CheckpointDir(root, id), ec);
  if (ec) LOG(WARNING) << "cannot remove " << CheckpointDir(root, id) << ": " << ec.message();
}

size_t RemoveIncompleteCheckpoints(const std::string& root, uint64_t below) {
  size_t removed = 0;
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ckpt-", 0) != 0) continue;
    char* end = nullptr;
    const unsigned long long id = std::strtoull(name.c_str() + 5, &end, 10);
    if (end == nullptr || *end != '\0' || id >= below) continue;
    if (!fs::exists(entry.path() / kManifestName)) doomed.push_back(entry.path());
  }
  for (const auto& path : doomed) {
    std::error_code rm;
    fs::remove_all(path, rm);
    if (!rm) ++removed;
  }
  return removed;
}

size_t PruneCheckpoints(const std::string& root, uint32_t keep) {
  std::vector<uint64_t> ids = ListCheckpoints(root);
  if (keep == 0 || ids.size() <= keep) return 0;
  std::set<uint64_t> needed;
  for (size_t i = ids.size() - keep; i < ids.size(); ++i) {
    auto m = ReadManifest(root, ids[i]);
    if (!m.ok()) continue;
    needed.insert(m->chain.begin(), m->chain.end());
  }
  size_t removed = 0;
  for (size_t i = 0; i + keep < ids.size(); ++i) {
    if (needed.count(ids[i]) > 0) continue;
    std::error_code ec;
    fs::remove_all(CheckpointDir(root, ids[i]), ec);
    if (!ec) ++removed;
  }
  return removed;
}

}  // namespace embedps::scheduler
