// What a checkpoint file says it is (checkpoint id, full or delta, server
// rank), and checks of one file without loading its rows: all a reader
// needs that is not a server (the scheduler checks every rank's file before
// it calls a checkpoint complete), in a library of its own
// (embedps_checkpoint_format) that does not link the table store.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace embedps::ps::checkpoint {

enum class Kind : uint8_t { kFull = 0, kDelta = 1 };

struct CutInfo {
  uint64_t checkpoint_id = 0;
  Kind kind = Kind::kFull;
  // kDelta: the checkpoint this one is relative to (the previous one); the
  // delta holds the rows changed since that cut and the keys removed since.
  uint64_t base_id = 0;
  uint64_t cluster_id = 0;
  uint32_t server_rank = 0;
};

// Checks one file completely (header, every block's checksum, the footer)
// without loading it. DataLoss with the reason when it is damaged.
Status Verify(const std::string& path);
// Verify(), returning what the file's header says it is (checkpoint id,
// kind, server rank), so a caller can check it is the file it expects.
StatusOr<CutInfo> VerifyCut(const std::string& path);
// What the header says, after checking only the header and the footer
// (cheap: two reads, whatever the file's size).
StatusOr<CutInfo> ReadCut(const std::string& path);

}  // namespace embedps::ps::checkpoint
