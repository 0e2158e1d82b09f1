#include "tests/support/exported_eval.h"

#include "launch/local_command.h"

namespace embedps::testing {

StatusOr<worker::EvalResult> EvaluateExportedLr(const std::string& model_dir, const std::string& test_file) {
  worker::ExportedModelInfo info;
  info.spec.model = "lr";
  // The table the servers' default --tables declares: "weights", dim 1, zeros.
  info.tables.push_back(worker::ExportedTableInfo{0, "weights", 1, "zeros", 0.0f, 0});
  info.data_format = "criteo";
  RETURN_IF_ERROR(worker::WriteModelInfo(model_dir, info));
  ASSIGN_OR_RETURN(auto model, launch::LoadExportedModel(model_dir));
  return worker::EvaluateModel(*model, test_file, 0.01, std::nullopt);
}

}  // namespace embedps::testing
