// A server checkpoint file (ps/checkpoint): the input is the whole file, put
// in an anonymous in-memory file, then verified and restored into a small
// table of the configuration the seeds were written with (dim 3, adagrad,
// stamped rows). A file that fails must leave the table empty; one that
// restores must have loaded exactly the rows the table now holds.
#include "ps/checkpoint/checkpoint.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/targets/memfd_input.h"

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
  MemfdInput input(data, size);
  if (!input.ok()) return 0;
  const Status verified = ps::checkpoint::Verify(input.path());
  auto table = ps::EmbeddingTable::Create(CheckpointFuzzTableConfig()).value();
  auto restored = ps::checkpoint::Restore(
      {{input.path()}}, [](uint32_t, uint64_t key) { return key % 4 != 0; }, {table.get()});
  // Restore may refuse a file Verify accepts (its tables differ), but must
  // never load one Verify refuses.
  if (restored.ok() && !verified.ok()) FuzzInvariantFailed("restore loaded a file Verify refused");
  if (!restored.ok() && table->size() != 0) FuzzInvariantFailed("a failed restore changed the table");
  if (restored.ok() && restored->rows_loaded != table->size()) {
    FuzzInvariantFailed("restore counted other rows than it loaded");
  }
  return 0;
}

}  // namespace embedps::fuzz
