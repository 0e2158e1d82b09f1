// Loading an exported model (.epsmodel): the input is the whole file, put
// in an anonymous in-memory file. A file that loads must hold dim values per
// key. (Checkpoints have their own target, checkpoint_file.)
#include <sys/mman.h>
#include <unistd.h>

#include "common/model_file.h"
#include "tests/fuzz/fuzz_targets.h"

namespace embedps::fuzz {

int FuzzModelFile(const uint8_t* data, size_t size) {
  const int fd = memfd_create("fuzz.epsmodel", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done == size) {
    auto shard = ReadModelShard("/proc/self/fd/" + std::to_string(fd));
    if (shard.ok() && shard->values.size() != shard->keys.size() * shard->dim) {
      FuzzInvariantFailed("loaded model has the wrong number of values");
    }
  }
  close(fd);
  return 0;
}

}  // namespace embedps::fuzz
