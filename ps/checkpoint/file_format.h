// The checkpoint file layout (docs/checkpoint-format.md): constants, the
// decoded header, block headers and footer, and their encodings. All
// integers are little-endian; every part carries a CRC-32 (zlib).
//
//   file   = header block* footer
//   header = magic "EPSCKPT\n" | u32 version | u32 body_bytes | body | u32 crc
//   block  = 32-byte block header | payload
//   footer = magic "EPSCKEND" | u64 blocks | u64 rows | u64 tombstones
//            | u32 crc | u32 zero                                 (40 bytes)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "ps/checkpoint/cut_file.h"
#include "ps/table_config.h"

namespace embedps::ps::checkpoint {

inline constexpr char kFileMagic[8] = {'E', 'P', 'S', 'C', 'K', 'P', 'T', '\n'};
inline constexpr char kEndMagic[8] = {'E', 'P', 'S', 'C', 'K', 'E', 'N', 'D'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kBlockMagic = 0x4b4c4245;  // "EBLK"
inline constexpr size_t kBlockHeaderBytes = 32;
inline constexpr size_t kFooterBytes = 40;
// Magic, version, body length before the body; CRC after it.
inline constexpr size_t kHeaderFixedBytes = 16;
inline constexpr size_t kHeaderCrcBytes = 4;
inline constexpr uint32_t kMaxHeaderBody = 16u << 20;
// Rows are cut into blocks of about this many payload bytes, so that a
// reader's buffer stays small and damage is pinned to a small range.
inline constexpr size_t kTargetBlockBytes = 1u << 20;

enum class BlockType : uint8_t { kRows = 1, kTombstones = 2 };

// One table as the file describes it: its configuration and row layout,
// and its push counter at the cut (last-step stamps are relative to it).
struct TableInfo {
  TableConfig config;
  uint32_t weight_bytes = 0;
  uint32_t state_floats = 0;
  bool has_stamp = false;
  uint64_t step_at_cut = 0;
  // Bytes of one record: u64 key, then the row.
  uint64_t record_bytes() const {
    return 8 + uint64_t{weight_bytes} + uint64_t{state_floats} * 4 + (has_stamp ? 4 : 0);
  }
};

struct FileHeader {
  uint32_t version = kFormatVersion;
  CutInfo cut;
  std::vector<TableInfo> tables;  // index = table id
};

struct BlockHeader {
  BlockType type = BlockType::kRows;
  uint32_t table = 0;    // index into FileHeader::tables
  uint32_t count = 0;    // records or keys
  uint64_t payload_bytes = 0;
  uint32_t payload_crc = 0;
};

struct Footer {
  uint64_t blocks = 0;
  uint64_t rows = 0;
  uint64_t tombstones = 0;
};

// The description of `table` at a cut at push counter `step`.

// CRC-32 (zlib) of `size` bytes, continuing from `crc` (0 to start).
uint32_t Crc32(const void* data, size_t size, uint32_t crc = 0);

// Encodings: the whole header (with magic and CRC), a block header for a
// payload, and the footer.
std::string EncodeHeader(const FileHeader& header);
std::string EncodeBlockHeader(const BlockHeader& block);
std::string EncodeFooter(const Footer& footer);

// Decoders. `what` names the file in errors, which are DataLoss saying what
// is wrong. DecodeHeader takes the whole header (fixed part, body, CRC).
StatusOr<FileHeader> DecodeHeader(const char* data, size_t size, const std::string& what);
// The number of header bytes the fixed part announces, bounded by
// `file_bytes`; DataLoss for a bad magic, another format version or a
// length past the end of the file.
StatusOr<size_t> HeaderBytes(const char* fixed, uint64_t file_bytes, const std::string& what);
StatusOr<BlockHeader> DecodeBlockHeader(const char* data, const std::string& what, uint64_t index);
StatusOr<Footer> DecodeFooter(const char* data, const std::string& what);

}  // namespace embedps::ps::checkpoint
