#include "ps/checkpoint/cut_file.h"

#include "ps/checkpoint/file_reader.h"

namespace embedps::ps::checkpoint {

Status Verify(const std::string& path) { return VerifyCut(path).status(); }

StatusOr<CutInfo> ReadCut(const std::string& path) {
  ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(path));
  return reader.header().cut;
}

StatusOr<CutInfo> VerifyCut(const std::string& path) {
  ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(path));
  RETURN_IF_ERROR(VerifyAllBlocks(reader));
  return reader.header().cut;
}

}  // namespace embedps::ps::checkpoint
