#include "ps/replication/applied_ids_file.h"

#include <fstream>
#include <iterator>

#include "ps/checkpoint/byte_codec.h"
#include "ps/checkpoint/durable_file.h"
#include "ps/checkpoint/file_format.h"

namespace embedps::ps {
namespace {

constexpr char kMagic[8] = {'E', 'P', 'S', 'D', 'E', 'D', 'U', 'P'};
constexpr uint32_t kVersion = 1;

}  // namespace

Status WriteAppliedIds(const std::string& path, uint64_t window,
                       const std::vector<RequestDedup::SenderIds>& ids) {
  checkpoint::ByteWriter w;
  w.bytes().append(kMagic, sizeof(kMagic));
  w.Put<uint32_t>(kVersion);
  w.Put<uint64_t>(window);
  w.Put<uint32_t>(static_cast<uint32_t>(ids.size()));
  for (const auto& s : ids) {
    if (s.applied.size() != window / 64) return InvalidArgument("applied-id bitset does not match the window");
    w.Put<uint32_t>(s.sender);
    w.Put<uint64_t>(s.highest);
    w.bytes().append(reinterpret_cast<const char*>(s.applied.data()), s.applied.size() * sizeof(uint64_t));
  }
  w.Put<uint32_t>(checkpoint::Crc32(w.bytes().data(), w.bytes().size()));
  ASSIGN_OR_RETURN(auto file, checkpoint::DurableFile::Create(path));
  RETURN_IF_ERROR(file->Append(w.bytes().data(), w.bytes().size()));
  return file->Commit();
}

StatusOr<std::vector<RequestDedup::SenderIds>> ReadAppliedIds(const std::string& path, uint64_t window) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto damaged = [&](const std::string& why) { return DataLoss(path + ": " + why); };
  if (bytes.size() < sizeof(kMagic) + 4 + 8 + 4 + 4) return damaged("too short");
  uint32_t crc = 0;
  std::memcpy(&crc, bytes.data() + bytes.size() - 4, 4);
  if (crc != checkpoint::Crc32(bytes.data(), bytes.size() - 4)) return damaged("checksum mismatch");
  if (bytes.compare(0, sizeof(kMagic), kMagic, sizeof(kMagic)) != 0) return damaged("not an applied-ids file");
  checkpoint::ByteReader r(bytes.data() + sizeof(kMagic), bytes.size() - sizeof(kMagic) - 4);
  uint32_t version = 0, senders = 0;
  uint64_t file_window = 0;
  r.Get(&version);
  r.Get(&file_window);
  r.Get(&senders);
  if (!r.ok() || version != kVersion) return damaged("unsupported version " + std::to_string(version));
  if (file_window != window) {
    return FailedPrecondition(path + ": written with a window of " + std::to_string(file_window) +
                              " request ids, this server uses " + std::to_string(window));
  }
  const size_t words = window / 64;
  if (r.left() != senders * (4 + 8 + words * 8)) return damaged("length does not match its sender count");
  std::vector<RequestDedup::SenderIds> ids(senders);
  for (auto& s : ids) {
    r.Get(&s.sender);
    r.Get(&s.highest);
    s.applied.resize(words);
    for (auto& word : s.applied) r.Get(&word);
  }
  if (!r.ok()) return damaged("truncated");
  return ids;
}

}  // namespace embedps::ps
