// Evaluates an LR model that servers exported without a launcher writing its
// model.json (the ssh and Slurm launchers leave evaluation to the user):
// writes the LR metadata the `local` launcher would have written, then runs
// the same evaluator `embedps eval` uses.
#pragma once

#include <string>

#include "common/status.h"
#include "worker/eval/model_evaluator.h"

namespace embedps::testing {

StatusOr<worker::EvalResult> EvaluateExportedLr(const std::string& model_dir, const std::string& test_file);

}  // namespace embedps::testing
