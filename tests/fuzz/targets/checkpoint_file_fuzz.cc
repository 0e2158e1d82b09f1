// A server checkpoint file (ps/checkpoint): the input is the whole file, put
// in an anonymous in-memory file, then verified and restored into a small
// table of the configuration the seeds were written with (dim 3, adagrad,
// stamped rows). A file that fails must leave the table empty; one that
// restores must have loaded exactly the rows the table now holds.
#include <sys/mman.h>
#include <unistd.h>

#include "ps/checkpoint/checkpoint.h"
#include "tests/fuzz/fuzz_targets.h"

namespace embedps::fuzz {

ps::TableConfig CheckpointFuzzTableConfig() {
  ps::TableConfig c;
  c.name = "emb";
  c.dim = 3;
  c.optimizer.name = "adagrad";
  c.evict_after_steps = 8;
  return c;
}

int FuzzCheckpointFile(const uint8_t* data, size_t size) {
  const int fd = memfd_create("fuzz.ckpt", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done == size) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    const Status verified = ps::checkpoint::Verify(path);
    auto table = ps::EmbeddingTable::Create(CheckpointFuzzTableConfig()).value();
    auto restored = ps::checkpoint::Restore(
        {{path}}, [](uint32_t, uint64_t key) { return key % 4 != 0; }, {table.get()});
    // Restore may refuse a file Verify accepts (its tables differ), but
    // must never load one Verify refuses.
    if (restored.ok() && !verified.ok()) FuzzInvariantFailed("restore loaded a file Verify refused");
    if (!restored.ok() && table->size() != 0) FuzzInvariantFailed("a failed restore changed the table");
    if (restored.ok() && restored->rows_loaded != table->size()) {
      FuzzInvariantFailed("restore counted other rows than it loaded");
    }
  }
  close(fd);
  return 0;
}

}  // namespace embedps::fuzz
