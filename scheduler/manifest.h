// Checkpoint manifests: the scheduler's record of one complete checkpoint,
// written only after every server has written its file. A checkpoint lives
// in ROOT/ckpt-NNNNNNNN/ (one file per server plus MANIFEST.json); a delta's
// manifest names the chain of checkpoints (a full one, then deltas) a
// restore replays. See docs/checkpoint-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "common/wire/messages.h"

namespace embedps::scheduler {

struct Manifest {
  uint64_t id = 0;
  bool delta = false;
  // Ids to replay, the full checkpoint first and this one last.
  std::vector<uint64_t> chain;
  double created_unix = 0;
  uint64_t shard_map_epoch = 0;
  uint32_t num_servers = 0;
  uint32_t num_virtual_shards = 0;
  // The map at the cut: owners[v] is the rank that owned virtual shard v
  // (empty in manifests written before it was recorded).
  std::vector<uint32_t> owners;
  // This checkpoint's server files, relative to its directory.
  std::vector<std::string> files;
  // PartitionQueue::ToJson() at the cut: what is trained, what remains.
  nlohmann::json partitions;
  wire::Progress progress;  // job totals at the cut
  // What failovers lost before the cut ("failover_details", lost rows and
  // seconds of training), so a job resumed from it still reports them.
  nlohmann::json failovers = nlohmann::json::array();
  uint64_t lost_rows = 0;
  double lost_seconds = 0;
  nlohmann::json config;    // the job's settings, for the record
  // The model the rows belong to (model.json without its training figures;
  // null when the job was started without --model_info): a resume without
  // model flags trains and exports the same model, one with other flags is
  // refused.
  nlohmann::json model;
  // Figures of the write.
  uint64_t rows = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double pause_seconds = 0;
};

// OK when a job described by `job_model` (a --model_info) can resume rows
// written for `checkpoint_model`: the same spec, tables and data format.
// FailedPrecondition naming each difference (for example "spec.factors: 8 in
// the checkpoint, 16 in this job") otherwise. Either one null: OK.
Status CheckSameModel(const nlohmann::json& checkpoint_model, const nlohmann::json& job_model);

// ROOT/ckpt-NNNNNNNN
std::string CheckpointDir(const std::string& root, uint64_t id);

// Writes DIR/MANIFEST.json atomically (temporary file, fsync, rename,
// directory fsync).
Status WriteManifest(const std::string& root, const Manifest& m);
StatusOr<Manifest> ReadManifest(const std::string& root, uint64_t id);

// Ids of the checkpoints under `root` that have a manifest, oldest first.
std::vector<uint64_t> ListCheckpoints(const std::string& root);

// The files of checkpoint `level` that can hold rows of the virtual shards
// flagged in `shards` (one flag per shard): those of the servers that owned
// one of them at its cut, since a server's file holds only the rows it
// owned. Every file when `shards` is empty or the manifest does not record
// a map of that many shards.
std::vector<std::string> FilesHolding(const Manifest& level, const std::vector<bool>& shards);

// The server files of the chain that restores checkpoint `m`, by level (the
// full checkpoint's files first), as absolute paths; of each level only
// FilesHolding(level, shards), so a restarted server reads its own rank's
// files rather than every server's.
StatusOr<std::vector<std::vector<std::string>>> ChainFiles(const std::string& root, const Manifest& m,
                                                           const std::vector<bool>& shards);

// The file of server `rank` in a checkpoint's directory.
std::string ServerFileName(uint32_t rank);

// A checkpoint is complete when it has exactly one file per server rank of
// its map (server-0.ckpt .. server-(N-1).ckpt) and each file's header names
// this checkpoint and that rank. `deep` also checks every block's checksum
// (reads every byte); otherwise only each file's header and footer are read.
// DataLoss naming what is missing or wrong.
Status CheckComplete(const std::string& root, const Manifest& m, bool deep);

// The newest checkpoint whose whole chain is intact (every level complete,
// every file verified);
// each damaged one passed over is logged and described in *skipped.
// NotFound when there is none.
StatusOr<Manifest> LatestUsableCheckpoint(const std::string& root, std::vector<std::string>* skipped);

// Removes ROOT/ckpt-NNNNNNNN of checkpoint `id` (an abandoned one).
void RemoveCheckpointDir(const std::string& root, uint64_t id);
// Removes every checkpoint directory without a manifest whose id is below
// `below`: abandoned ones a late writer left behind. Returns how many.
size_t RemoveIncompleteCheckpoints(const std::string& root, uint64_t below);

// Removes all but the newest `keep` checkpoints, keeping every checkpoint a
// kept one's chain needs. Returns how many were removed.
size_t PruneCheckpoints(const std::string& root, uint32_t keep);

}  // namespace embedps::scheduler
