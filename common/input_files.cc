#include "common/input_files.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace embedps {
namespace {

bool HasGlobMeta(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// Appends the sorted matches of `pattern` to *out.
Status ExpandPattern(const std::string& pattern, std::vector<std::string>* out) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out->push_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc == GLOB_NOMATCH) return NotFound("no file matches " + pattern);
  if (rc != 0) return Unavailable("cannot expand " + pattern + " (glob error " + std::to_string(rc) + ")");
  return Status::OK();
}

}  // namespace

StatusOr<std::vector<std::string>> ExpandInputs(const std::string& spec) {
  std::vector<std::string> files;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    const std::string part = spec.substr(start, comma - start);
    start = comma + 1;
    if (part.empty()) continue;
    if (HasGlobMeta(part)) {
      RETURN_IF_ERROR(ExpandPattern(part, &files));
    } else {
      files.push_back(part);
    }
  }
  if (files.empty()) return InvalidArgument("no input files given");
  return files;
}

Status CheckInputFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return NotFound("data file " + path + " does not exist");
    return Unavailable("cannot read data file " + path + ": " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    return InvalidArgument("data file " + path + " is a directory; name its files instead (for example " + path +
                           "/*.tsv)");
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument("data file " + path +
                           " is not a regular file (a FIFO, socket or device): partitions are byte ranges, "
                           "so inputs must be files that can be read at any offset");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return Unavailable("cannot read data file " + path + ": " + std::strerror(errno));
  }
  return Status::OK();
}

StatusOr<bool> IsGzipFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg = "cannot open " + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(msg) : Unavailable(msg);
  }
  unsigned char magic[2] = {0, 0};
  const ssize_t n = ::pread(fd, magic, sizeof(magic), 0);
  ::close(fd);
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

}  // namespace embedps
