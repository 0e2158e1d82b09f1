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
  // Blocks are read front to back: a larger read-ahead window keeps more
  // of the disk's queue busy (a hint; its failure changes nothing).
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
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
      footer_(o.footer_),
      offset_(o.offset_),
      index_(o.index_),
      rows_(o.rows_),
      tombstones_(o.tombstones_) {
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
  offset_ = header_bytes;
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

void FileReader::Rewind() {
  offset_ = blocks_start_;
  index_ = rows_ = tombstones_ = 0;
}

StatusOr<bool> FileReader::Next(BlockRef* block, std::vector<char>* payload, std::optional<BlockType> want) {
  const uint64_t end = file_bytes_ - kFooterBytes;
  if (offset_ >= end) {
    if (index_ != footer_.blocks || rows_ != footer_.rows || tombstones_ != footer_.tombstones) {
      return DataLoss(path_ + ": truncated or spliced: the footer counts " + std::to_string(footer_.blocks) +
                      " blocks, " + std::to_string(footer_.rows) + " rows, " +
                      std::to_string(footer_.tombstones) + " tombstones; the file holds " +
                      std::to_string(index_) + ", " + std::to_string(rows_) + ", " + std::to_string(tombstones_));
    }
    return false;
  }
  if (end - offset_ < kBlockHeaderBytes) {
    return DataLoss(path_ + ": truncated: " + std::to_string(end - offset_) + " stray bytes before the footer");
  }
  char raw[kBlockHeaderBytes];
  RETURN_IF_ERROR(ReadAt(offset_, raw, sizeof(raw)));
  ASSIGN_OR_RETURN(const BlockHeader b, DecodeBlockHeader(raw, path_, index_));
  const uint64_t payload_offset = offset_ + kBlockHeaderBytes;
  RETURN_IF_ERROR(CheckBlock(b, index_, payload_offset));
  *block = BlockRef{b, index_, payload_offset};
  if (!want || b.type == *want) {
    payload->resize(b.payload_bytes);  // bounded by the file size (CheckBlock)
    RETURN_IF_ERROR(ReadAt(payload_offset, payload->data(), payload->size()));
    if (Crc32(payload->data(), payload->size()) != b.payload_crc) {
      return DataLoss(path_ + ": bad checksum in block " + std::to_string(index_));
    }
  }
  (b.type == BlockType::kRows ? rows_ : tombstones_) += b.count;
  offset_ = payload_offset + b.payload_bytes;
  ++index_;
  return true;
}

Status VerifyAllBlocks(FileReader& reader) {
  reader.Rewind();
  std::vector<char> payload;
  BlockRef block;
  while (true) {
    ASSIGN_OR_RETURN(const bool more, reader.Next(&block, &payload, std::nullopt));
    if (!more) return Status::OK();
  }
}

}  // namespace embedps::ps::checkpoint
