// The model flags shared by `embedps local` and `embedps-worker` (defined
// once, in the worker library both link), and the ModelSpec they describe
// for data of a given format.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "worker/data/csv_schema.h"
#include "worker/data/example.h"
#include "worker/data/side_features.h"
#include "worker/model/dense_matmul.h"
#include "worker/model/model_spec.h"

namespace embedps::worker {

// Flags left at their defaults take per-model defaults (e.g. mf: 64
// factors, l2 0.1), the settings measured in docs/results.md.
// `csv`: the schema of csv data (its field counts), null for other formats.
StatusOr<ModelSpec> ModelSpecFromFlags(data::Format format, const data::SideFeatures* side,
                                       const data::CsvSchema* csv = nullptr);

// Resolves --dense_precision against the CPU and makes it the precision of
// the dense layers built from now on; InvalidArgument naming the flag.
StatusOr<DensePrecision> ApplyDensePrecisionFlag();

// The csv column roles of --label_column, --numeric_columns,
// --categorical_columns and --ignore_columns.
data::CsvColumns CsvColumnsFromFlags();

// The side features named by --user_features / --item_features (MovieLens
// u.user/u.item or users.dat/movies.dat presets), or nullptr when neither
// is set. Item-side fields are recorded for the MF/hybrid dot product.
StatusOr<std::unique_ptr<data::SideFeatures>> SideFeaturesFromFlags();

// Whether the named flag was given on the command line or in a flagfile.
bool FlagWasSet(const char* name);

// The model flags (name, value) that describe `spec`: applied to the unset
// flags of a resumed job, they rebuild the checkpoint's model.
std::vector<std::pair<std::string, std::string>> ModelSpecFlagValues(const ModelSpec& spec);

// "--name=value" for every model flag set explicitly, to hand the launcher's settings to
// the workers it starts.
std::vector<std::string> ModelFlagArgs();

}  // namespace embedps::worker
