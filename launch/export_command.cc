#include "launch/export_command.h"

#include <cstdio>
#include <filesystem>
#include <set>

#include "launch/local_command.h"
#include "worker/eval/interactions.h"

namespace embedps::launch {

namespace fs = std::filesystem;

Status RunExport(const std::string& from, const std::string& out) {
  if (from.empty() || out.empty()) return InvalidArgument("--from and --out are required");
  std::error_code ec;
  const std::string source = fs::exists(fs::path(from) / "model" / "model.json", ec) ? from + "/model" : from;
  ASSIGN_OR_RETURN(auto model, LoadExportedModel(source));
  if (fs::exists(out, ec) && fs::equivalent(source, out, ec)) return InvalidArgument("--out is the model itself");
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    // The flag is fine; what it names is in the way: not a usage error.
    return FailedPrecondition("--out " + out + " exists and is not empty");
  }
  fs::create_directories(out, ec);
  if (ec) return Unavailable("cannot create " + out + ": " + ec.message());
  // The model's own files: its tables, metadata, interactions and the
  // copies of its side files; nothing else that may lie in the directory.
  std::set<std::string> side_files;
  for (const auto& f : model->info().side_files) side_files.insert(f.file);
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(source, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".epsmodel" && p.filename() != "model.json" &&
        p.filename() != worker::kInteractionsFile && side_files.count(p.filename().string()) == 0) {
      continue;
    }
    fs::copy_file(p, fs::path(out) / p.filename(), ec);
    if (ec) return Unavailable("cannot copy " + p.string() + " to " + out + ": " + ec.message());
    ++files;
  }
  if (ec) return Unavailable("cannot list " + source + ": " + ec.message());
  std::printf("embedps: exported the %s model (%zu files, %zu rows in table 0) from %s to %s\n",
              model->info().spec.model.c_str(), files, model->rows(0), source.c_str(), out.c_str());
  return Status::OK();
}

}  // namespace embedps::launch
