// `embedps export --from RUN_DIR|MODEL_DIR --out DIR`: copies a trained
// model (RUN_DIR/model of `embedps local`, or any model directory) into a
// directory of its own, after loading it to check it is whole: model.json,
// the table files and, for rating data, interactions.tsv. predict, eval and
// recommend take the result as --model DIR (docs/model-format.md).
#pragma once

#include <string>

#include "common/status.h"

namespace embedps::launch {

// NotFound when `from` holds no model; DataLoss for a damaged table file;
// InvalidArgument when `out` is `from` or exists and is not empty.
Status RunExport(const std::string& from, const std::string& out);

}  // namespace embedps::launch
