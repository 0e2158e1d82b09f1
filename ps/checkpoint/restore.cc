// Restore(): every file's header and footer is read and checked first.
// Tables that never held a row are then loaded in one pass, each block
// checked as it is read, front to back, on a thread of its own ahead of
// the loading, and are emptied again if a block turns out damaged. Tables
// that hold rows already are verified in full first and loaded by a
// second read, so that an error leaves them as they were.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "ps/checkpoint/block_pipeline.h"
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
  FileReader reader;
  const FileHeader& header() const { return reader.header(); }
};
using Chain = std::vector<std::vector<ChainFile>>;  // [element][file]

// Opens every file and checks its header, footer, tables and place in the
// chain; reads no block.
StatusOr<Chain> OpenChain(const std::vector<std::vector<std::string>>& paths,
                          const std::vector<EmbeddingTable*>& tables, RestoreStats* stats) {
  if (paths.empty()) return InvalidArgument("restore: empty checkpoint chain");
  Chain chain;
  uint64_t previous_id = 0;
  for (size_t e = 0; e < paths.size(); ++e) {
    if (paths[e].empty()) return InvalidArgument("restore: chain element " + std::to_string(e) + " has no files");
    chain.emplace_back();
    for (const std::string& path : paths[e]) {
      ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(path));
      const FileHeader& h = reader.header();
      RETURN_IF_ERROR(CheckTablesMatch(path, h.tables, tables));
      const CutInfo& first = chain[e].empty() ? h.cut : chain[e][0].header().cut;
      RETURN_IF_ERROR(CheckChainLink(path, h.cut, e, first, previous_id));
      stats->bytes_read += reader.file_bytes();
      chain[e].push_back({std::move(reader)});
    }
    previous_id = chain[e][0].header().cut.checkpoint_id;
  }
  return chain;
}

// Reads every block of the chain, checking its checksum and the layout.
Status VerifyAll(Chain& chain) {
  for (auto& element : chain) {
    for (ChainFile& f : element) RETURN_IF_ERROR(VerifyAllBlocks(f.reader));
  }
  return Status::OK();
}

// The push counter of each server at its last cut in the chain, by table:
// stamps in any of a server's files are ages against it.
std::vector<std::map<uint32_t, uint64_t>> ServerClocks(const Chain& chain, size_t num_tables) {
  std::vector<std::map<uint32_t, uint64_t>> clocks(num_tables);
  for (const auto& element : chain) {
    for (const ChainFile& f : element) {
      for (size_t t = 0; t < num_tables; ++t) {
        clocks[t][f.header().cut.server_rank] = f.header().tables[t].step_at_cut;
      }
    }
  }
  return clocks;
}

// Sizes a one-table chain's index for the rows the full checkpoint will
// give it: each file's row count (its footer) times the share of a sample
// of its first block's keys that `owned` keeps (keys hash to servers, so a
// sample stands for the file). Files of several tables do not say how many
// rows each table has; their indexes grow as they load.
Status ReserveForFullCheckpoint(std::vector<ChainFile>& full,
                                const std::function<bool(uint32_t, uint64_t)>& owned,
                                const std::vector<EmbeddingTable*>& tables) {
  if (tables.size() != 1) return Status::OK();
  constexpr uint64_t kSamples = 256;
  uint64_t expected = 0;
  std::vector<char> payload;
  BlockRef block;
  for (ChainFile& f : full) {
    if (f.reader.footer().rows == 0) continue;
    f.reader.Rewind();
    do {
      ASSIGN_OR_RETURN(const bool more, f.reader.Next(&block, &payload, BlockType::kRows));
      if (!more) break;
    } while (block.header.type != BlockType::kRows || block.header.count == 0);
    if (block.header.type != BlockType::kRows || block.header.count == 0) continue;
    const uint64_t record = f.header().tables[0].record_bytes();
    const uint64_t n = block.header.count;
    const uint64_t samples = std::min(n, kSamples);
    uint64_t kept = 0;
    for (uint64_t i = 0; i < samples; ++i) {
      uint64_t key;
      std::memcpy(&key, payload.data() + (i * n / samples) * record, 8);
      kept += owned(0, key) ? 1 : 0;
    }
    expected += f.reader.footer().rows * kept / samples;
  }
  if (expected > 0) tables[0]->ReserveRows(expected);
  return Status::OK();
}

// Loads the chain: per element every removal first, then the rows, so a
// key removed and created again since the previous cut ends up present.
// Each file is walked front to back once for its rows (and once more
// before, for its removals, if it has any).
Status LoadChain(Chain& chain, const std::function<bool(uint32_t, uint64_t)>& owned,
                 const std::vector<EmbeddingTable*>& tables,
                 const std::vector<std::map<uint32_t, uint64_t>>& clocks, RestoreStats* stats) {
  for (auto& element : chain) {
    std::vector<BlockWalk> walks;
    for (size_t i = 0; i < element.size(); ++i) {
      if (element[i].reader.footer().tombstones > 0) {
        walks.push_back({&element[i].reader, BlockType::kTombstones, i});
      }
    }
    for (size_t i = 0; i < element.size(); ++i) walks.push_back({&element[i].reader, BlockType::kRows, i});
    RETURN_IF_ERROR(ReadAheadEach(walks, [&](const BlockWalk& walk, const BlockRef& block, const char* payload) {
      const BlockHeader& b = block.header;
      const ChainFile& f = element[walk.file_index];
      const uint32_t t = b.table;
      auto keep = [&](uint64_t key) { return owned(t, key); };
      if (b.type == BlockType::kTombstones) {
        tables[t]->EraseRows(reinterpret_cast<const uint64_t*>(payload), b.count, keep);
      } else {
        const TableInfo& info = f.header().tables[t];
        const uint64_t clock = clocks[t].at(f.header().cut.server_rank);
        stats->rows_skipped += tables[t]->LoadRows(payload, b.count, info.has_stamp, clock, keep);
      }
      return Status::OK();
    }));
  }
  return Status::OK();
}

}  // namespace

StatusOr<RestoreStats> Restore(const std::vector<std::vector<std::string>>& paths,
                               const std::function<bool(uint32_t table, uint64_t key)>& owned,
                               const std::vector<EmbeddingTable*>& tables) {
  const auto start = std::chrono::steady_clock::now();
  RestoreStats stats;
  ASSIGN_OR_RETURN(Chain chain, OpenChain(paths, tables, &stats));
  const bool pristine = std::all_of(tables.begin(), tables.end(),
                                    [](const EmbeddingTable* t) { return t->IsPristine(); });
  if (!pristine) RETURN_IF_ERROR(VerifyAll(chain));
  stats.verified_first = !pristine;
  RETURN_IF_ERROR(ReserveForFullCheckpoint(chain[0], owned, tables));
  const auto clocks = ServerClocks(chain, tables.size());
  uint64_t rows_before = 0;
  std::vector<uint64_t> steps_before;
  for (size_t t = 0; t < tables.size(); ++t) {
    rows_before += tables[t]->size();
    steps_before.push_back(tables[t]->step());
    uint64_t latest = 0;
    for (const auto& [rank, step] : clocks[t]) latest = std::max(latest, step);
    tables[t]->AdvanceStepTo(latest);
  }
  Status loaded = LoadChain(chain, owned, tables, clocks, &stats);
  if (!loaded.ok()) {
    if (!pristine) return loaded.WithContext("restore failed after verification (file changed?)");
    for (size_t t = 0; t < tables.size(); ++t) tables[t]->ResetToPristine(steps_before[t]);
    return loaded.WithContext("restore failed; the tables are empty again");
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
