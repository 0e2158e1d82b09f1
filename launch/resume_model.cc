#include "launch/resume_model.h"

#include <cstdio>

#include <gflags/gflags.h>

#include "scheduler/manifest.h"
#include "worker/model/model_flags.h"
#include "worker/model/model_spec.h"

namespace embedps::launch {

StatusOr<nlohmann::json> CheckpointModel(const std::string& checkpoint_dir) {
  const std::vector<uint64_t> ids = scheduler::ListCheckpoints(checkpoint_dir);
  if (ids.empty()) return NotFound("no checkpoint in " + checkpoint_dir);
  // The newest manifest: every checkpoint of one job records the same model,
  // and the scheduler checks the one it actually restores.
  ASSIGN_OR_RETURN(const scheduler::Manifest m, scheduler::ReadManifest(checkpoint_dir, ids.back()));
  return m.model;
}

Status AdoptCheckpointModel(const nlohmann::json& model, JobSettings* job) {
  if (model.is_null()) return Status::OK();
  if (!model.contains("spec")) return DataLoss("the checkpoint's model record has no spec");
  ASSIGN_OR_RETURN(const worker::ModelSpec spec, worker::ModelSpecFromJson(model["spec"]));
  std::string taken;
  for (const auto& [name, value] : worker::ModelSpecFlagValues(spec)) {
    if (worker::FlagWasSet(name.c_str())) continue;
    if (gflags::SetCommandLineOption(name.c_str(), value.c_str()).empty()) {
      return Internal("cannot set --" + name + "=" + value);
    }
    if (name == "model" || name == "factors" || name == "hidden") taken += " --" + name + "=" + value;
  }
  // The workers get the flags taken, as if given.
  job->model_flags = worker::ModelFlagArgs();
  std::string& format = job->data.format;
  if (format.empty() && model.contains("data_format") && model["data_format"].is_string()) {
    format = model["data_format"].get<std::string>();
    taken += " --format=" + format;
  }
  std::printf("embedps: --resume: the checkpoint's model:%s\n", taken.empty() ? " (as the flags give it)" : taken.c_str());
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace embedps::launch
