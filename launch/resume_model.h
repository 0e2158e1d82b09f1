// A resumed job trains the model its checkpoint holds: the scheduler records
// the model in every checkpoint's manifest, and `embedps local --resume`
// takes from it each model flag (and --format) the command line leaves
// unset, so resuming needs no model flags repeated. Flags set to another
// model are refused (scheduler::CheckSameModel), never trained into rows of
// a different shape.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "launch/job_settings.h"

namespace embedps::launch {

// The model recorded by the newest checkpoint under `checkpoint_dir`; null
// for checkpoints written before models were recorded. DataLoss for an
// unreadable manifest.
StatusOr<nlohmann::json> CheckpointModel(const std::string& checkpoint_dir);

// Sets every model flag not given on the command line to the value of the
// recorded model `model` (a model.json without training figures), and the
// job's format to its data format when empty; the job's model flags then
// include those taken. Prints what it took. No effect for a null model.
Status AdoptCheckpointModel(const nlohmann::json& model, JobSettings* job);

}  // namespace embedps::launch
