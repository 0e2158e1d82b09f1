#include "common/partition.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/input_files.h"

namespace embedps {
namespace {

constexpr size_t kBlockBytes = 4 << 20;

// Closes a file descriptor on scope exit so every error path releases it.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

Status ErrnoStatus(const std::string& what, const std::string& file, int err) {
  std::string msg = what + " " + file + ": " + std::strerror(err);
  return err == ENOENT ? NotFound(msg) : Unavailable(msg);
}

}  // namespace

StatusOr<std::vector<Partition>> PlanPartitions(const std::string& file, uint32_t count) {
  if (count == 0) return InvalidArgument("partition count must be positive");
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", file, errno);
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("cannot stat", file, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(file + " is not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) return InvalidArgument(file + " is empty");
  ASSIGN_OR_RETURN(const bool gzip, IsGzipFile(file));
  if (gzip) {
    Partition whole;
    whole.file = file;
    whole.end = size;
    return std::vector<Partition>{whole};
  }

  // Ideal cut points; each becomes the first line start at or after it.
  // Several targets can land on the same line start (long lines, few lines),
  // which is why the result may hold fewer partitions than asked.
  std::vector<uint64_t> targets;
  for (uint32_t i = 1; i < count; ++i) {
    targets.push_back(static_cast<uint64_t>(
        (static_cast<unsigned __int128>(size) * i) / count));
  }

  struct Cut {
    uint64_t offset;
    uint64_t line;
  };
  std::vector<Cut> cuts{{0, 1}};
  size_t next_target = 0;
  uint64_t newlines = 0;
  auto block = std::make_unique<char[]>(kBlockBytes);
  uint64_t offset = 0;
  // Reading stops as soon as every target is placed: later newlines cannot
  // change any cut, and the tail needs no line numbers.
  while (next_target < targets.size() && offset < size) {
    ssize_t n = ::pread(fd, block.get(), kBlockBytes, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", file, errno);
    }
    if (n == 0) break;  // The file shrank under us; plan what we saw.
    const char* p = block.get();
    const char* const last = p + n;
    while (next_target < targets.size()) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', last - p));
      if (nl == nullptr) break;
      ++newlines;
      const uint64_t line_start = offset + static_cast<uint64_t>(nl - block.get()) + 1;
      while (next_target < targets.size() && targets[next_target] <= line_start) {
        if (line_start < size && line_start > cuts.back().offset) {
          cuts.push_back({line_start, newlines + 1});
        }
        ++next_target;
      }
      p = nl + 1;
    }
    offset += static_cast<uint64_t>(n);
  }

  std::vector<Partition> parts;
  parts.reserve(cuts.size());
  for (size_t i = 0; i < cuts.size(); ++i) {
    Partition part;
    part.id = static_cast<uint32_t>(i);
    part.file = file;
    part.begin = cuts[i].offset;
    part.end = i + 1 < cuts.size() ? cuts[i + 1].offset : size;
    part.first_line = cuts[i].line;
    parts.push_back(std::move(part));
  }
  return parts;
}

StatusOr<std::vector<Partition>> PlanInputPartitions(const std::vector<std::string>& inputs,
                                                     uint32_t count) {
  if (count == 0) return InvalidArgument("partition count must be positive");
  std::vector<std::string> files;
  for (const std::string& spec : inputs) {
    ASSIGN_OR_RETURN(std::vector<std::string> expanded, ExpandInputs(spec));
    files.insert(files.end(), expanded.begin(), expanded.end());
  }
  if (files.empty()) return InvalidArgument("no input files given");
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const std::string& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0) return ErrnoStatus("cannot stat", f, errno);
    sizes.push_back(static_cast<uint64_t>(st.st_size));
    total += sizes.back();
  }
  if (total == 0) {
    return InvalidArgument(files.size() == 1 ? files[0] + " is empty" : "every input file is empty");
  }
  std::vector<Partition> all;
  for (size_t i = 0; i < files.size(); ++i) {
    if (sizes[i] == 0) continue;  // nothing to read; one empty file in a glob is no error
    const uint64_t share = static_cast<uint64_t>(
        (static_cast<unsigned __int128>(count) * sizes[i] + total / 2) / total);
    ASSIGN_OR_RETURN(std::vector<Partition> parts,
                     PlanPartitions(files[i], static_cast<uint32_t>(std::max<uint64_t>(1, share))));
    for (Partition& p : parts) {
      p.id = static_cast<uint32_t>(all.size());
      all.push_back(std::move(p));
    }
  }
  return all;
}

}  // namespace embedps
