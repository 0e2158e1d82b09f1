// Which side features score an exported model: a hybrid model carries the
// side files it was trained with (model.json's side_files, copied into its
// directory), and one that cannot be scored as trained is refused rather
// than scored without its features.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "worker/data/side_features.h"
#include "worker/eval/exported_model.h"

namespace embedps::worker {

// `given` (the --user_features/--item_features of eval, predict or
// recommend) when set, else the model's own copies loaded from `model_dir`
// with their recorded specs, else none. FailedPrecondition naming what is
// missing when the model was trained with side features that neither
// provides (a copy gone, or a hybrid model exported without them), or when
// `given` lays out other fields than the model was trained with.
[[nodiscard]] StatusOr<std::unique_ptr<data::SideFeatures>> SideFeaturesForModel(
    const ExportedModelInfo& info, const std::string& model_dir, std::unique_ptr<data::SideFeatures> given);

// SideFeaturesForModel with the model directory's model.json and the side
// files of the command's flags (SideFeaturesFromFlags). A directory without
// model.json gets the flags' side features: the model's own load reports it.
[[nodiscard]] StatusOr<std::unique_ptr<data::SideFeatures>> SideFeaturesForModelDir(const std::string& model_dir);

}  // namespace embedps::worker
