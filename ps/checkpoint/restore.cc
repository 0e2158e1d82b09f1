// Restore() and Verify(): every file of the chain is read and checked in
// full first; only then are rows loaded (a second read of each file, its
// checksums checked again), so a damaged or mismatched chain changes
// nothing.
#include <chrono>
#include <map>

#include "ps/checkpoint/checkpoint.h"
#include "ps/checkpoint/file_reader.h"
#include "ps/checkpoint/table_match.h"

namespace embedps::ps::checkpoint {
namespace {

// Element `e` of the chain: a full checkpoint first, then deltas, each
// relative to the one before; one checkpoint id per element.
Status CheckChainLink(const std::string& path, const CutInfo& cut, size_t e, const CutInfo& first,
                      uint64_t previous_id) {
  const Kind want = e == 0 ? Kind::kFull : Kind::kDelta;
  if (cut.kind != want) {
    return FailedPrecondition(path + ": chain element " + std::to_string(e) + " must be a " +
                              (want == Kind::kFull ? "full" : "delta") + " checkpoint");
  }
  if (cut.checkpoint_id != first.checkpoint_id || cut.cluster_id != first.cluster_id) {
    return FailedPrecondition(path + ": checkpoint " + std::to_string(cut.checkpoint_id) +
                              " of cluster " + std::to_string(cut.cluster_id) + " among files of " +
                              std::to_string(first.checkpoint_id) + " of cluster " +
                              std::to_string(first.cluster_id));
  }
  if (e > 0 && cut.base_id != previous_id) {
    return FailedPrecondition(path + ": delta relative to checkpoint " + std::to_string(cut.base_id) +
                              ", but the chain's previous checkpoint is " +
                              std::to_string(previous_id));
  }
  return Status::OK();
}

struct ChainFile {
  std::string path;
  FileHeader header;
};

// Verifies every file; returns their headers by chain element.
StatusOr<std::vector<std::vector<ChainFile>>> VerifyChain(
    const std::vector<std::vector<std::string>>& chain, const std::vector<EmbeddingTable*>& tables,
    RestoreStats* stats) {
  if (chain.empty()) return InvalidArgument("restore: empty checkpoint chain");
  std::vector<std::vector<ChainFile>> out;
  uint64_t previous_id = 0;
  for (size_t e = 0; e < chain.size(); ++e) {
    if (chain[e].empty()) return InvalidArgument("restore: chain element " + std::to_string(e) + " has no files");
    out.emplace_back();
    for (const std::string& path : chain[e]) {
      ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(path));
      RETURN_IF_ERROR(VerifyAllBlocks(reader));
      const FileHeader& h = reader.header();
      RETURN_IF_ERROR(CheckTablesMatch(path, h.tables, tables));
      const CutInfo& first = out[e].empty() ? h.cut : out[e][0].header.cut;
      RETURN_IF_ERROR(CheckChainLink(path, h.cut, e, first, previous_id));
      stats->bytes_read += reader.file_bytes();
      out[e].push_back({path, h});
    }
    previous_id = out[e][0].header.cut.checkpoint_id;
  }
  return out;
}

// The push counter of each server at its last cut in the chain, by table:
// stamps in any of a server's files are ages against it.
std::vector<std::map<uint32_t, uint64_t>> ServerClocks(const std::vector<std::vector<ChainFile>>& files,
                                                       size_t num_tables) {
  std::vector<std::map<uint32_t, uint64_t>> clocks(num_tables);
  for (const auto& element : files) {
    for (const ChainFile& f : element) {
      for (size_t t = 0; t < num_tables; ++t) {
        clocks[t][f.header.cut.server_rank] = f.header.tables[t].step_at_cut;
      }
    }
  }
  return clocks;
}

// Loads the blocks of `type` of one file.
Status LoadFile(const ChainFile& f, BlockType type,
                const std::function<bool(uint32_t, uint64_t)>& owned,
                const std::vector<EmbeddingTable*>& tables,
                const std::vector<std::map<uint32_t, uint64_t>>& clocks, RestoreStats* stats) {
  ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(f.path));
  return reader.ForEachBlock({type}, [&](const BlockHeader& b, const char* payload) {
    const uint32_t t = b.table;
    auto keep = [&](uint64_t key) { return owned(t, key); };
    if (type == BlockType::kTombstones) {
      tables[t]->EraseRows(reinterpret_cast<const uint64_t*>(payload), b.count, keep);
    } else {
      const TableInfo& info = reader.header().tables[t];
      const uint64_t clock = clocks[t].at(f.header.cut.server_rank);
      stats->rows_skipped += tables[t]->LoadRows(payload, b.count, info.has_stamp, clock, keep);
    }
    return Status::OK();
  });
}

}  // namespace

StatusOr<RestoreStats> Restore(const std::vector<std::vector<std::string>>& chain,
                               const std::function<bool(uint32_t table, uint64_t key)>& owned,
                               const std::vector<EmbeddingTable*>& tables) {
  const auto start = std::chrono::steady_clock::now();
  RestoreStats stats;
  ASSIGN_OR_RETURN(auto files, VerifyChain(chain, tables, &stats));
  const auto clocks = ServerClocks(files, tables.size());
  uint64_t rows_before = 0;
  for (size_t t = 0; t < tables.size(); ++t) {
    rows_before += tables[t]->size();
    uint64_t latest = 0;
    for (const auto& [rank, step] : clocks[t]) latest = std::max(latest, step);
    tables[t]->AdvanceStepTo(latest);
  }
  // Per element: every removal first, then the rows, so a key removed and
  // created again since the previous cut ends up present.
  for (const auto& element : files) {
    for (BlockType type : {BlockType::kTombstones, BlockType::kRows}) {
      for (const ChainFile& f : element) {
        RETURN_IF_ERROR(LoadFile(f, type, owned, tables, clocks, &stats)
                            .WithContext("restore failed after verification (file changed?)"));
      }
    }
  }
  uint64_t rows_after = 0;
  for (EmbeddingTable* t : tables) {
    t->MarkRestored();
    rows_after += t->size();
  }
  // The tables' net growth: for the empty tables a restart restores into,
  // exactly the rows held from the chain.
  stats.rows_loaded = rows_after > rows_before ? rows_after - rows_before : 0;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace embedps::ps::checkpoint
