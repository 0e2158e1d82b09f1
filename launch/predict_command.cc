#include "launch/predict_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "launch/local_command.h"
#include "worker/data/format.h"
#include "worker/eval/example_scan.h"

namespace embedps::launch {
namespace {

using Clock = std::chrono::steady_clock;

// Scores go to a temporary file renamed into place at the end, so a failed
// run leaves no partial output behind.
struct Output {
  std::FILE* file = nullptr;
  std::string path, tmp;
  ~Output() {
    if (file != nullptr && file != stdout) {
      std::fclose(file);
      std::remove(tmp.c_str());
    }
  }
};

Status OpenOutput(const std::string& path, Output* out) {
  if (path.empty() || path == "-") {
    out->file = stdout;
    return Status::OK();
  }
  out->path = path;
  out->tmp = path + ".tmp";
  out->file = std::fopen(out->tmp.c_str(), "w");
  if (out->file == nullptr) return Unavailable("cannot write " + out->tmp);
  return Status::OK();
}

Status CloseOutput(Output* out) {
  if (out->file == stdout) return std::fflush(stdout) == 0 ? Status::OK() : Unavailable("cannot write stdout");
  const bool ok = std::fclose(out->file) == 0;
  out->file = nullptr;
  if (!ok || std::rename(out->tmp.c_str(), out->path.c_str()) != 0) {
    std::remove(out->tmp.c_str());
    return Unavailable("cannot write " + out->path);
  }
  return Status::OK();
}

// Standard input (--input -) copied into a temporary file, which the
// readers need: they plan partitions by byte offsets and detect the format
// from the first line. Removed when this goes.
class StdinCopy {
 public:
  ~StdinCopy() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  StatusOr<std::string> Make() {
    std::string pattern = (std::filesystem::temp_directory_path() / "embedps-predict-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) return Unavailable("cannot create a temporary file for standard input in " + pattern);
    path_ = pattern;
    char buf[1 << 16];
    while (true) {
      const size_t n = std::fread(buf, 1, sizeof(buf), stdin);
      if (n > 0 && write(fd, buf, n) != static_cast<ssize_t>(n)) {
        close(fd);
        return Unavailable("cannot write " + path_ + " (standard input's copy)");
      }
      if (n < sizeof(buf)) break;
    }
    const bool failed = std::ferror(stdin) != 0;
    close(fd);
    if (failed) return Unavailable("cannot read standard input");
    return path_;
  }

 private:
  std::string path_;
};

}  // namespace

Status RunPredict(const PredictOptions& options, const data::SideFeatures* side) {
  if (options.model_dir.empty() || options.input.empty()) {
    return InvalidArgument("--model and --input are required");
  }
  PredictOptions o = options;
  StdinCopy stdin_copy;
  if (o.input == "-") {
    ASSIGN_OR_RETURN(o.input, stdin_copy.Make());
  }
  ASSIGN_OR_RETURN(const auto format, data::FormatFromFlag(o.format));
  ASSIGN_OR_RETURN(auto exported, LoadExportedModel(o.model_dir));
  Output out;
  RETURN_IF_ERROR(OpenOutput(o.output, &out));
  worker::ScanOptions scan;
  scan.max_bad_line_fraction = o.max_bad_line_fraction;
  scan.labels_required = false;
  if (exported->info().csv) scan.csv = *exported->info().csv;
  if (auto trained_on = data::ParseFormatName(exported->info().data_format); trained_on.ok()) {
    scan.trained_on = trained_on.value();
  }
  uint64_t rows = 0, bad = 0;
  const auto start = Clock::now();
  auto next_report = start + std::chrono::duration<double>(o.progress_seconds);
  std::vector<float> scores;
  RETURN_IF_ERROR(worker::ScanExamples(
      o.input, format, scan,
      [&](std::vector<data::Example>& batch) {
        exported->Score(&batch, side, &scores);
        for (float s : scores) std::fprintf(out.file, "%.6g\n", s);
        if (std::ferror(out.file)) return Unavailable("cannot write the scores");
        rows += scores.size();
        if (const auto now = Clock::now(); now >= next_report) {
          next_report = now + std::chrono::duration<double>(o.progress_seconds);
          std::fprintf(stderr, "predict: %llu rows scored, %.0f rows/s\n", static_cast<unsigned long long>(rows),
                       rows / std::chrono::duration<double>(now - start).count());
        }
        return Status::OK();
      },
      &bad));
  RETURN_IF_ERROR(CloseOutput(&out));
  std::fprintf(stderr, "embedps: scored %llu rows of %s with the %s model in %.1f s",
               static_cast<unsigned long long>(rows), options.input == "-" ? "standard input" : o.input.c_str(),
               exported->info().spec.model.c_str(),
               std::chrono::duration<double>(Clock::now() - start).count());
  if (bad > 0) {
    std::fprintf(stderr, "; %llu malformed lines skipped (no output line; the first are logged above with "
                 "their line numbers)", static_cast<unsigned long long>(bad));
  }
  std::fprintf(stderr, "\n");
  return Status::OK();
}

}  // namespace embedps::launch
