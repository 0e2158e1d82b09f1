// Input file lists: a job's --train/--test value names one file, several
// comma-separated files, or glob patterns ("data/day_*.tsv.gz").
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace embedps {

// Splits `spec` at commas and expands each part that holds a glob
// metacharacter (* ? [) with glob(3), sorted by name; a part without one is
// kept as written (opening it later reports a missing file). InvalidArgument
// for an empty spec; NotFound for a pattern that matches no file.
[[nodiscard]] StatusOr<std::vector<std::string>> ExpandInputs(const std::string& spec);

// OK when `path` is a regular file this process can read; otherwise a
// status saying what it is instead: NotFound for a missing path,
// InvalidArgument for a directory or a FIFO, socket or device (partitions
// are byte ranges, so inputs must be seekable files), Unavailable when it
// cannot be read (permissions).
[[nodiscard]] Status CheckInputFile(const std::string& path);

// True when the file starts with the gzip magic bytes (1f 8b). NotFound or
// Unavailable when it cannot be opened.
[[nodiscard]] StatusOr<bool> IsGzipFile(const std::string& path);

}  // namespace embedps
