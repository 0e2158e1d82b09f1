// The table-declaration parser (--tables, --tables_file), which also hands
// every declaration to EmbeddingTable::Create for validation. Declarations
// it accepts must carry consecutive ids, distinct names and a usable dim.
#include <set>
#include <string>

#include "ps/table_spec.h"
#include "tests/fuzz/fuzz_targets.h"

namespace embedps::fuzz {

int FuzzTableSpec(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto specs = ps::ParseTableSpecs(text, ps::TableConfig{});
  if (!specs.ok()) return 0;
  std::set<std::string> names;
  for (size_t i = 0; i < specs->size(); ++i) {
    const ps::TableConfig& t = (*specs)[i];
    if (t.id != i) FuzzInvariantFailed("table ids are not consecutive");
    if (!names.insert(t.name).second) FuzzInvariantFailed("two tables share a name");
    if (t.dim == 0 || t.dim > 1024) FuzzInvariantFailed("accepted a dim outside 1..1024");
  }
  return 0;
}

}  // namespace embedps::fuzz
