#include "ps/checkpoint/table_info.h"

namespace embedps::ps::checkpoint {

TableInfo DescribeTable(const EmbeddingTable& table, uint64_t step) {
  TableInfo t;
  t.config = table.config();
  t.weight_bytes = table.weight_bytes();
  t.state_floats = table.state_floats();
  t.has_stamp = table.tracks_steps();
  t.step_at_cut = step;
  return t;
}

}  // namespace embedps::ps::checkpoint
