// Server checkpoints: a consistent snapshot of a server's tables written to
// one file while training goes on, and restoring rows from the files of a
// checkpoint chain (one full checkpoint, then deltas) onto any number of
// servers. The file format is in docs/checkpoint-format.md.
//
// Consistency comes from two halves. The scheduler pauses the workers and
// waits until their pushes are acknowledged before it asks the servers to
// cut, so no push straddles the cut. The table then keeps the rows as they
// were at the cut: the writer copies stripes out one by one, and a request
// that would change a stripe not yet copied copies it first (copy on write
// at stripe granularity), so the pause a request can see is one stripe copy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "ps/checkpoint/cut_file.h"
#include "ps/embedding_table.h"

namespace embedps::ps::checkpoint {

struct WriteStats {
  uint64_t rows = 0;        // rows written
  uint64_t tombstones = 0;  // keys written as removed (deltas)
  uint64_t bytes = 0;       // file size
  double seconds = 0;       // Write(): copy, encode, write, fsync, rename
  // Longest time one request waited to copy a stripe before changing it.
  double max_request_stall_seconds = 0;
};

// One checkpoint being taken by one server. Holds pointers to the tables,
// which must outlive it.
class CheckpointWriter {
 public:
  virtual ~CheckpointWriter() = default;
  // Writes the snapshot to `path`: to a temporary name next to it, fsync,
  // rename, fsync of the directory. On any error (a full disk included)
  // the temporary file is removed, nothing is left at `path`, and the
  // error says what failed. Blocking; call it from a background thread.
  // Call at most once. Whatever happens, the tables stop copying for this
  // cut once it returns.
  virtual StatusOr<WriteStats> Write(const std::string& path) = 0;
};

// Sets the cut on `tables` (index = table id) and returns the writer of
// the snapshot. Fast: it takes each stripe lock once and copies nothing.
// Only one cut at a time per table: FailedPrecondition while the previous
// writer has not finished. A delta cut also resets the tables' change
// tracking, so the next delta is relative to this cut.
StatusOr<std::unique_ptr<CheckpointWriter>> Cut(const std::vector<EmbeddingTable*>& tables,
                                                const CutInfo& info);

struct RestoreStats {
  uint64_t rows_loaded = 0;   // rows this server now holds from the chain
  uint64_t rows_skipped = 0;  // rows of the chain owned by other servers
  uint64_t bytes_read = 0;
  double seconds = 0;
  // The tables held rows already, so every file was read and checked in
  // full before loading (two reads); otherwise one read, checked as loaded.
  bool verified_first = false;
};

// Loads the rows `owned(table_id, key)` accepts from a checkpoint chain into
// `tables` (index = table id), weights, optimizer state and step counts
// exactly as written. `chain[0]` holds every server's file of a full
// checkpoint, each later element the files of one delta, in order. Every
// file's header and layout is checked (magic, format version, block
// structure, table configs match `tables`) before any row is loaded, and
// every block's checksum before its rows are. An error (DataLoss for
// damage, FailedPrecondition for a mismatch) leaves the tables as they
// were: tables that never held a row (a restart) are read once and emptied
// again on damage; tables with rows are checked in full first.
// Restored rows count as unchanged for the next delta.
StatusOr<RestoreStats> Restore(const std::vector<std::vector<std::string>>& chain,
                               const std::function<bool(uint32_t table, uint64_t key)>& owned,
                               const std::vector<EmbeddingTable*>& tables);

}  // namespace embedps::ps::checkpoint
