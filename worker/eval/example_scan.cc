#include "worker/eval/example_scan.h"

#include "common/input_files.h"
#include "worker/data/example_reader.h"
#include "worker/data/format.h"

namespace embedps::worker {

Status ScanExamples(const std::string& files, std::optional<data::Format> format, const ScanOptions& options,
                    const std::function<Status(std::vector<data::Example>& batch)>& fn,
                    uint64_t* bad_lines) {
  // One partition per file: the files are read whole, in order.
  auto parts = PlanInputPartitions({files}, 1);
  if (!parts.ok()) return parts.status();
  data::ReaderOptions reader_options;
  reader_options.max_bad_line_fraction = options.max_bad_line_fraction;
  reader_options.csv = options.csv;
  reader_options.csv_label_optional = !options.labels_required;
  std::vector<data::Example> batch;
  uint64_t left = options.max_rows > 0 ? options.max_rows : UINT64_MAX;
  for (const Partition& p : parts.value()) {
    if (left == 0) break;
    ASSIGN_OR_RETURN(const data::Format file_format, data::ResolveFormat(format, p.file));
    if (options.labels_required && !data::HasLabels(file_format)) {
      return InvalidArgument(p.file + " is " + data::FormatName(file_format) +
                             " data: evaluation needs labeled rows (embedps predict scores unlabeled ones)");
    }
    if (options.trained_on && !data::SameFeatures(*options.trained_on, file_format)) {
      return InvalidArgument(p.file + " is " + data::FormatName(file_format) + " data, but the model was trained on " +
                             data::FormatName(*options.trained_on) + " data (set --format if the detection is wrong)");
    }
    ASSIGN_OR_RETURN(auto reader, data::ExampleReader::Open(p, file_format, reader_options));
    while (left > 0) {
      ASSIGN_OR_RETURN(size_t n, reader->NextBatch(options.batch_size, &batch));
      if (n == 0) break;
      if (n > left) batch.resize(left);
      left -= batch.size();
      RETURN_IF_ERROR(fn(batch));
    }
    if (bad_lines != nullptr) *bad_lines += reader->bad_lines();
  }
  return Status::OK();
}

}  // namespace embedps::worker
