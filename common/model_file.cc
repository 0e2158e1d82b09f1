#include "common/model_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <unistd.h>

#include "common/hash.h"

namespace embedps {
namespace {

constexpr char kMagic[8] = {'E', 'P', 'S', 'M', 'O', 'D', 'E', 'L'};
constexpr uint32_t kVersion = 1;

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t table;
  uint32_t dim;
  uint32_t reserved;
  uint64_t rows;
};
static_assert(sizeof(FileHeader) == 32);

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

uint64_t ChecksumBytes(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = Mix64(seed ^ size);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    h = Mix64(h ^ word) + 0x9e3779b97f4a7c15ULL;
  }
  uint64_t tail = 0;
  // An empty array may come as a null pointer, which memcpy must never get.
  if (size > i) std::memcpy(&tail, p + i, size - i);
  return Mix64(h ^ tail ^ (size - i));
}

Status WriteModelShard(const std::string& path, const ModelShard& shard) {
  if (shard.values.size() != shard.keys.size() * shard.dim) {
    return InvalidArgument("model shard has " + std::to_string(shard.values.size()) +
                           " values for " + std::to_string(shard.keys.size()) + " keys of dim " +
                           std::to_string(shard.dim));
  }
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kVersion;
  h.table = shard.table;
  h.dim = shard.dim;
  h.rows = shard.keys.size();
  const size_t key_bytes = shard.keys.size() * sizeof(uint64_t);
  const size_t value_bytes = shard.values.size() * sizeof(float);
  uint64_t sum = ChecksumBytes(&h, sizeof(h), 1);
  sum = ChecksumBytes(shard.keys.data(), key_bytes, sum);
  sum = ChecksumBytes(shard.values.data(), value_bytes, sum);

  const std::string tmp = path + ".tmp";
  File f(fopen(tmp.c_str(), "wb"));
  if (!f) return Unavailable("cannot write " + tmp + ": " + ErrnoText());
  bool ok = fwrite(&h, sizeof(h), 1, f.get()) == 1;
  ok = ok && (key_bytes == 0 || fwrite(shard.keys.data(), key_bytes, 1, f.get()) == 1);
  ok = ok && (value_bytes == 0 || fwrite(shard.values.data(), value_bytes, 1, f.get()) == 1);
  ok = ok && fwrite(&sum, sizeof(sum), 1, f.get()) == 1;
  ok = ok && fflush(f.get()) == 0;
  ok = ok && fsync(fileno(f.get())) == 0;
  // A full disk may show only at close (delayed allocation).
  ok = fclose(f.release()) == 0 && ok;
  if (!ok) {
    const std::string why = ErrnoText();
    std::remove(tmp.c_str());  // a partial file helps nobody
    return Unavailable("cannot write " + tmp + ": " + why);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = ErrnoText();
    std::remove(tmp.c_str());
    return Unavailable("cannot rename " + tmp + " to " + path + ": " + why);
  }
  return Status::OK();
}

StatusOr<ModelShard> ReadModelShard(const std::string& path) {
  File f(fopen(path.c_str(), "rb"));
  if (!f) {
    if (errno == ENOENT) return NotFound("model file " + path + " does not exist");
    return Unavailable("cannot open " + path + ": " + ErrnoText());
  }
  FileHeader h{};
  if (fread(&h, sizeof(h), 1, f.get()) != 1) return DataLoss(path + ": truncated header");
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    return DataLoss(path + ": not an embedps model file (bad magic)");
  }
  if (h.version != kVersion) {
    return DataLoss(path + ": unsupported model file version " + std::to_string(h.version));
  }
  if (h.dim == 0 || h.dim > 4096) return DataLoss(path + ": implausible dim " + std::to_string(h.dim));
  // Check the declared size against the real one before allocating anything.
  if (fseek(f.get(), 0, SEEK_END) != 0) return Unavailable(path + ": cannot seek");
  const long file_size = ftell(f.get());
  const unsigned __int128 expected =
      sizeof(h) + static_cast<unsigned __int128>(h.rows) * (8 + 4ull * h.dim) + 8;
  if (file_size < 0 || expected != static_cast<unsigned __int128>(file_size)) {
    return DataLoss(path + ": size does not match its header (truncated or corrupt)");
  }
  fseek(f.get(), sizeof(h), SEEK_SET);
  ModelShard shard;
  shard.table = h.table;
  shard.dim = h.dim;
  shard.keys.resize(h.rows);
  shard.values.resize(h.rows * h.dim);
  uint64_t stored = 0;
  bool ok = h.rows == 0 || fread(shard.keys.data(), 8 * h.rows, 1, f.get()) == 1;
  ok = ok && (h.rows == 0 || fread(shard.values.data(), 4 * h.rows * h.dim, 1, f.get()) == 1);
  ok = ok && fread(&stored, 8, 1, f.get()) == 1;
  if (!ok) return DataLoss(path + ": truncated");
  uint64_t sum = ChecksumBytes(&h, sizeof(h), 1);
  sum = ChecksumBytes(shard.keys.data(), 8 * h.rows, sum);
  sum = ChecksumBytes(shard.values.data(), 4 * h.rows * h.dim, sum);
  if (sum != stored) return DataLoss(path + ": checksum mismatch (file is corrupt)");
  return shard;
}

}  // namespace embedps
