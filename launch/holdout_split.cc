#include "launch/holdout_split.h"

#include <fstream>
#include <unordered_map>
#include <vector>

#include "common/input_files.h"
#include "worker/data/format.h"
#include "worker/data/line_reader.h"

namespace embedps::launch {
namespace {

struct Latest {
  int64_t timestamp = 0;
  size_t line = 0;  // index into the kept lines
};

}  // namespace

StatusOr<HoldoutSplit> SplitLatestPerUser(const std::string& train_spec, data::Format format,
                                          const std::string& dir) {
  if (!data::IsRatingFormat(format)) {
    return InvalidArgument(std::string("a leave-latest-out split needs rating data, not ") +
                           data::FormatName(format) + " (pass --test)");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(train_spec));
  const data::LineParser parse = data::ParserFor(format);
  std::vector<std::string> lines;
  std::unordered_map<uint64_t, Latest> latest;  // user -> their latest line
  std::string header;
  data::Example ex;
  for (const auto& file : files) {
    ASSIGN_OR_RETURN(auto reader, data::LineReader::OpenWholeFile(file, 4 << 20));
    std::string_view line;
    uint64_t line_no = 0;
    while (true) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&line, &line_no));
      if (!more) break;
      if (line_no == 1 && data::IsHeaderLine(format, line)) {
        if (header.empty()) header = std::string(line);
        continue;
      }
      if (line.empty()) continue;
      lines.emplace_back(line);
      if (!parse(line, &ex).ok()) continue;
      auto [it, fresh] = latest.try_emplace(ex.user, Latest{ex.timestamp, lines.size() - 1});
      if (!fresh && ex.timestamp >= it->second.timestamp) it->second = {ex.timestamp, lines.size() - 1};
    }
  }
  if (latest.empty()) return InvalidArgument(train_spec + " holds no ratings to split");
  std::vector<bool> held_out(lines.size(), false);
  for (const auto& [user, l] : latest) held_out[l.line] = true;
  HoldoutSplit split{dir + "/train.split", dir + "/test.heldout"};
  std::ofstream train(split.train), test(split.test);
  if (!header.empty()) {
    train << header << '\n';
    test << header << '\n';
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    (held_out[i] ? test : train) << lines[i] << '\n';
    ++(held_out[i] ? split.test_lines : split.train_lines);
  }
  if (!train.flush() || !test.flush()) return Unavailable("cannot write the split into " + dir);
  return split;
}

}  // namespace embedps::launch
