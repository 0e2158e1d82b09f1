#include "worker/data/example_reader.h"

namespace embedps::data {

StatusOr<std::unique_ptr<ExampleReader>> ExampleReader::Open(const Partition& p, Format format,
                                                             const ReaderOptions& opts) {
  RETURN_IF_ERROR(BadLineCounter::CheckOptions(opts));
  ASSIGN_OR_RETURN(std::unique_ptr<LineReader> lines, LineReader::Open(p, opts.buffer_bytes));
  std::optional<CsvSchema> csv;
  if (format == Format::kCsv) {
    // Every partition reads the header, wherever in the file it starts.
    ASSIGN_OR_RETURN(csv, ReadCsvSchema(p.file, opts.csv, opts.csv_label_optional));
  }
  std::unique_ptr<ExampleReader> reader(new ExampleReader(std::move(lines), format, std::move(csv), opts));
  reader->first_line_ = p.first_line;
  // A resumed lease: its first lines were trained already. They are split
  // but not parsed.
  for (uint64_t i = 0; i < p.skip_lines; ++i) {
    std::string_view line;
    uint64_t line_no = 0;
    ASSIGN_OR_RETURN(const bool got, reader->lines_->Next(&line, &line_no));
    if (!got) {
      return InvalidArgument(p.file + ": cannot skip " + std::to_string(p.skip_lines) +
                             " lines of a partition that has " + std::to_string(i));
    }
    reader->position_ = line_no - p.first_line + 1;
  }
  return reader;
}

ExampleReader::ExampleReader(std::unique_ptr<LineReader> lines, Format format, std::optional<CsvSchema> csv,
                             const ReaderOptions& opts)
    : lines_(std::move(lines)),
      format_(format),
      csv_(std::move(csv)),
      parse_(ParserFor(format)),
      counter_(lines_->file(), opts) {}

StatusOr<bool> ExampleReader::ReadOne(Example* ex) {
  while (true) {
    std::string_view line;
    uint64_t line_no = 0;
    ASSIGN_OR_RETURN(const bool got, lines_->Next(&line, &line_no));
    if (got) position_ = line_no - first_line_ + 1;
    if (!got) {
      // The end-of-partition check catches small partitions that never
      // reached min_lines_for_check.
      if (!end_checked_) {
        end_checked_ = true;
        RETURN_IF_ERROR(counter_.CheckAtEnd());
      }
      return false;
    }
    if (line.empty() || (line.size() == 1 && line[0] == '\r') || (line_no == 1 && IsHeaderLine(format_, line))) {
      ++skipped_;
      continue;
    }
    const Status parsed = csv_ ? csv_->Parse(line, ex) : parse_(line, ex);
    RETURN_IF_ERROR(counter_.Record(line_no, parsed));
    if (parsed.ok()) return true;
  }
}

StatusOr<size_t> ExampleReader::NextBatch(size_t max_rows, std::vector<Example>* out) {
  if (!error_.ok()) {
    out->clear();
    return error_;
  }
  // 0 means "end of partition" to callers, so it cannot also mean "asked for 0".
  if (max_rows == 0) return InvalidArgument("NextBatch needs max_rows > 0");
  // Growing only: shrinking would free the vectors of the tail examples.
  if (out->size() < max_rows) out->resize(max_rows);
  size_t n = 0;
  while (n < max_rows) {
    StatusOr<bool> got = ReadOne(&(*out)[n]);
    if (!got.ok()) {
      error_ = got.status();
      out->clear();
      return error_;
    }
    if (!*got) break;
    ++n;
  }
  out->resize(n);
  return n;
}

}  // namespace embedps::data
