#include "ps/checkpoint/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace embedps::ps::checkpoint {

StatusOr<FileReader> FileReader::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("checkpoint file " + path + " does not exist");
    return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Unavailable("cannot read " + path + ": not a regular file");
  }
  FileReader reader(path, fd, static_cast<uint64_t>(st.st_size));
  RETURN_IF_ERROR(reader.ReadHeaderAndFooter());
  return reader;
}

FileReader::FileReader(std::string path, int fd, uint64_t file_bytes)
    : path_(std::move(path)), fd_(fd), file_bytes_(file_bytes) {}

FileReader::FileReader(FileReader&& o) noexcept
    : path_(std::move(o.path_)),
      fd_(o.fd_),
      file_bytes_(o.file_bytes_),
      blocks_start_(o.blocks_start_),
      header_(std::move(o.header_)),
      footer_(o.footer_) {
  o.fd_ = -1;
}

FileReader::~FileReader() {
  if (fd_ >= 0) close(fd_);
}

Status FileReader::ReadAt(uint64_t offset, char* out, size_t size) const {
  while (size > 0) {
    const ssize_t n = pread(fd_, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable("cannot read " + path_ + ": " + std::strerror(errno));
    if (n == 0) return DataLoss(path_ + ": truncated: the file ends at byte " + std::to_string(offset));
    out += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return Status::OK();
}

Status FileReader::ReadHeaderAndFooter() {
  if (file_bytes_ < kHeaderFixedBytes + kHeaderCrcBytes + kFooterBytes) {
    return DataLoss(path_ + ": truncated: " + std::to_string(file_bytes_) +
                    " bytes is less than an empty checkpoint");
  }
  char fixed[kHeaderFixedBytes];
  RETURN_IF_ERROR(ReadAt(0, fixed, sizeof(fixed)));
  ASSIGN_OR_RETURN(const size_t header_bytes, HeaderBytes(fixed, file_bytes_, path_));
  std::vector<char> header(header_bytes);
  RETURN_IF_ERROR(ReadAt(0, header.data(), header.size()));
  ASSIGN_OR_RETURN(header_, DecodeHeader(header.data(), header.size(), path_));
  blocks_start_ = header_bytes;
  char footer[kFooterBytes];
  RETURN_IF_ERROR(ReadAt(file_bytes_ - kFooterBytes, footer, sizeof(footer)));
  ASSIGN_OR_RETURN(footer_, DecodeFooter(footer, path_));
  return Status::OK();
}

Status FileReader::CheckBlock(const BlockHeader& b, uint64_t index, uint64_t offset) const {
  const std::string where = path_ + ": block " + std::to_string(index);
  if (b.table >= header_.tables.size()) {
    return DataLoss(where + ": table " + std::to_string(b.table) + " is not in the header");
  }
  const uint64_t record =
      b.type == BlockType::kRows ? header_.tables[b.table].record_bytes() : uint64_t{8};
  // In 128 bits: a lying header may declare rows of any size.
  if (b.payload_bytes != static_cast<unsigned __int128>(b.count) * record) {
    return DataLoss(where + ": " + std::to_string(b.payload_bytes) + " payload bytes for " +
                    std::to_string(b.count) + " records of " + std::to_string(record));
  }
  const uint64_t end = file_bytes_ - kFooterBytes;
  if (b.payload_bytes > end - offset) {
    return DataLoss(where + ": truncated: payload of " + std::to_string(b.payload_bytes) +
                    " bytes runs past the end of the data");
  }
  return Status::OK();
}

StatusOr<std::vector<BlockRef>> FileReader::ScanBlocks() const {
  const uint64_t end = file_bytes_ - kFooterBytes;
  uint64_t offset = blocks_start_;
  uint64_t rows = 0, tombstones = 0;
  std::vector<BlockRef> blocks;
  char raw[kBlockHeaderBytes];
  while (offset < end) {
    const uint64_t index = blocks.size();
    if (end - offset < kBlockHeaderBytes) {
      return DataLoss(path_ + ": truncated: " + std::to_string(end - offset) +
                      " stray bytes before the footer");
    }
    RETURN_IF_ERROR(ReadAt(offset, raw, sizeof(raw)));
    ASSIGN_OR_RETURN(const BlockHeader b, DecodeBlockHeader(raw, path_, index));
    offset += kBlockHeaderBytes;
    RETURN_IF_ERROR(CheckBlock(b, index, offset));
    blocks.push_back({b, index, offset});
    (b.type == BlockType::kRows ? rows : tombstones) += b.count;
    offset += b.payload_bytes;
  }
  if (blocks.size() != footer_.blocks || rows != footer_.rows || tombstones != footer_.tombstones) {
    return DataLoss(path_ + ": truncated or spliced: the footer counts " +
                    std::to_string(footer_.blocks) + " blocks, " + std::to_string(footer_.rows) +
                    " rows, " + std::to_string(footer_.tombstones) + " tombstones; the file holds " +
                    std::to_string(blocks.size()) + ", " + std::to_string(rows) + ", " +
                    std::to_string(tombstones));
  }
  return blocks;
}

Status FileReader::ReadBlock(const BlockRef& block, std::vector<char>* out) const {
  out->resize(block.header.payload_bytes);  // bounded by the file size (CheckBlock)
  RETURN_IF_ERROR(ReadAt(block.payload_offset, out->data(), out->size()));
  if (Crc32(out->data(), out->size()) != block.header.payload_crc) {
    return DataLoss(path_ + ": bad checksum in block " + std::to_string(block.index));
  }
  return Status::OK();
}

Status FileReader::ForEachBlock(const std::vector<BlockType>& types, const BlockFn& fn) {
  ASSIGN_OR_RETURN(const std::vector<BlockRef> blocks, ScanBlocks());
  std::vector<char> payload;
  for (const BlockRef& b : blocks) {
    RETURN_IF_ERROR(ReadBlock(b, &payload));
    if (std::find(types.begin(), types.end(), b.header.type) != types.end()) {
      RETURN_IF_ERROR(fn(b.header, payload.data()));
    }
  }
  return Status::OK();
}

Status VerifyAllBlocks(FileReader& reader) {
  return reader.ForEachBlock({}, [](const BlockHeader&, const char*) { return Status::OK(); });
}

}  // namespace embedps::ps::checkpoint
