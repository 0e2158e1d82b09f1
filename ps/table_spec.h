// Parses table declarations: one table per line (or ';'-separated), each a
// list of key=value settings, e.g.
//   name=user dim=16 optimizer=adam lr=0.001 init=normal init_scale=0.01
//   name=item dim=16 optimizer=adagrad fp16=1 admit_after=3 memory_budget_mb=512
// Tables get ids 0, 1, ... in declaration order. '#' starts a comment.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "ps/embedding_table.h"

namespace embedps::ps {

// Keys: name, dim, optimizer, lr, initial_accumulator, l1, l2, beta1, beta2,
// epsilon, ftrl_beta, clip_norm, init, init_scale, seed, fp16,
// admit_after, evict_after_steps, evict_after_seconds, memory_budget_mb. Settings not given keep
// the values of `defaults`. InvalidArgument names the table and the
// offending setting.
StatusOr<std::vector<TableConfig>> ParseTableSpecs(const std::string& text,
                                                   const TableConfig& defaults);

// The same, reading the declarations from a file.
StatusOr<std::vector<TableConfig>> ReadTableSpecFile(const std::string& path,
                                                     const TableConfig& defaults);

}  // namespace embedps::ps
