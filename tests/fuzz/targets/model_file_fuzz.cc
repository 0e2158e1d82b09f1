// Loading an exported model (.epsmodel): the input is the whole file, put
// in an anonymous in-memory file. A file that loads must hold dim values per
// key. (Checkpoints have their own target, checkpoint_file.)
#include "common/model_file.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/targets/memfd_input.h"

namespace embedps::fuzz {

int FuzzModelFile(const uint8_t* data, size_t size) {
  MemfdInput input(data, size);
  if (!input.ok()) return 0;
  auto shard = ReadModelShard(input.path());
  if (shard.ok() && shard->values.size() != shard->keys.size() * shard->dim) {
    FuzzInvariantFailed("loaded model has the wrong number of values");
  }
  return 0;
}

}  // namespace embedps::fuzz
