#include "worker/eval/model_side_features.h"

#include <glog/logging.h>

#include "worker/model/model_flags.h"

namespace embedps::worker {
namespace {

std::string SidesOf(const std::vector<data::SideFeatures::LoadedFile>& files) {
  std::string sides;
  for (const auto& f : files) sides += std::string(sides.empty() ? "" : ", ") + data::SideName(f.side);
  return sides.empty() ? "none" : sides;
}

std::string SidesOf(const std::vector<ExportedSideFile>& files) {
  std::string sides;
  for (const auto& f : files) sides += (sides.empty() ? "" : ", ") + f.side;
  return sides.empty() ? "none" : sides;
}

}  // namespace

StatusOr<std::unique_ptr<data::SideFeatures>> SideFeaturesForModel(const ExportedModelInfo& info,
                                                                   const std::string& model_dir,
                                                                   std::unique_ptr<data::SideFeatures> given) {
  const bool trained_with_side = !info.side_files.empty() || info.spec.model == "hybrid";
  if (given != nullptr) {
    // Given files must give the fields the model learned: the same sides in
    // the same order (they number the fields) and the same item fields.
    if (!info.side_files.empty() && SidesOf(given->loaded()) != SidesOf(info.side_files)) {
      return FailedPrecondition("the model was trained with side features of " + SidesOf(info.side_files) +
                                ", the flags give " + SidesOf(given->loaded()));
    }
    if (given->item_fields() != info.spec.item_fields) {
      return FailedPrecondition("the side files given lay out other item fields than the model was trained with");
    }
    return given;
  }
  if (!trained_with_side) return std::unique_ptr<data::SideFeatures>();
  if (info.side_files.empty()) {
    return FailedPrecondition("model " + model_dir + " is a " + info.spec.model +
                              " model trained with side features that its directory does not hold (exported "
                              "before models carried them): give --user_features/--item_features as in training");
  }
  auto side = std::make_unique<data::SideFeatures>();
  for (const ExportedSideFile& f : info.side_files) {
    const data::Side which = f.side == "user" ? data::Side::kUser : data::Side::kItem;
    const std::string flag = "--" + f.side + "_features";
    if (f.file.empty()) {
      return FailedPrecondition("model " + model_dir + " was trained with " + f.side + " features from " + f.source +
                                ", which could not be copied into it: give " + flag + " " + f.source);
    }
    const Status st = side->LoadDetected(which, model_dir + "/" + f.file, f.spec);
    if (!st.ok()) {
      return FailedPrecondition("model " + model_dir + ": its " + f.side + " features (" + f.file +
                                ") cannot be read: " + st.message() + "; give " + flag + " " + f.source);
    }
  }
  return side;
}

StatusOr<std::unique_ptr<data::SideFeatures>> SideFeaturesForModelDir(const std::string& model_dir) {
  ASSIGN_OR_RETURN(auto given, SideFeaturesFromFlags());
  StatusOr<ExportedModelInfo> info = ReadModelInfo(model_dir);
  if (!info.ok()) return given;
  return SideFeaturesForModel(info.value(), model_dir, std::move(given));
}

}  // namespace embedps::worker
