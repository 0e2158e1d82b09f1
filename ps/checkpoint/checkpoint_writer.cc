// Cut() and the writer: takes each table's stripes one by one (copied at
// the cut, by the writer or by a request that got there first), writes
// them as blocks, and frees each copy once written.
#include <chrono>

#include "ps/checkpoint/checkpoint.h"
#include "ps/checkpoint/durable_file.h"
#include "ps/checkpoint/file_format.h"
#include "ps/checkpoint/table_info.h"

namespace embedps::ps::checkpoint {
namespace {

class Writer final : public CheckpointWriter {
 public:
  Writer(std::vector<EmbeddingTable*> tables, const CutInfo& info)
      : tables_(std::move(tables)), info_(info) {
    for (EmbeddingTable* t : tables_) steps_.push_back(t->cut_step());
  }
  ~Writer() override { EndCut(false); }

  StatusOr<WriteStats> Write(const std::string& path) override {
    const auto start = std::chrono::steady_clock::now();
    WriteStats stats;
    Status st = WriteFile(path, &stats);
    for (EmbeddingTable* t : tables_) {
      stats.max_request_stall_seconds =
          std::max(stats.max_request_stall_seconds, t->cut_max_stall_seconds());
    }
    EndCut(st.ok());
    if (!st.ok()) return st.WithContext("checkpoint " + std::to_string(info_.checkpoint_id));
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return stats;
  }

 private:
  void EndCut(bool complete) {
    if (ended_) return;
    ended_ = true;
    for (EmbeddingTable* t : tables_) t->EndCut(complete);
  }

  Status WriteFile(const std::string& path, WriteStats* stats) {
    if (ended_) return FailedPrecondition("Write called twice");
    ASSIGN_OR_RETURN(auto file, DurableFile::Create(path));
    FileHeader header;
    header.cut = info_;
    for (size_t i = 0; i < tables_.size(); ++i) {
      header.tables.push_back(DescribeTable(*tables_[i], steps_[i]));
    }
    const std::string h = EncodeHeader(header);
    RETURN_IF_ERROR(file->Append(h.data(), h.size()));
    Footer footer;
    for (uint32_t t = 0; t < tables_.size(); ++t) {
      for (uint32_t s = 0; s < tables_[t]->num_stripes(); ++s) {
        StripeCopy copy = tables_[t]->TakeCutStripe(s);
        RETURN_IF_ERROR(WriteBlocks(*file, t, BlockType::kTombstones,
                                    reinterpret_cast<const char*>(copy.removed.data()),
                                    copy.removed.size(), 8, &footer));
        RETURN_IF_ERROR(WriteBlocks(*file, t, BlockType::kRows, copy.records.get(), copy.count,
                                    header.tables[t].record_bytes(), &footer));
      }  // the copy is freed here, once written
    }
    const std::string f = EncodeFooter(footer);
    RETURN_IF_ERROR(file->Append(f.data(), f.size()));
    RETURN_IF_ERROR(file->Commit());
    stats->rows = footer.rows;
    stats->tombstones = footer.tombstones;
    stats->bytes = file->bytes();
    return Status::OK();
  }

  // Writes `count` records of `record` bytes as blocks of about
  // kTargetBlockBytes.
  static Status WriteBlocks(DurableFile& file, uint32_t table, BlockType type, const char* data,
                            uint64_t count, size_t record, Footer* footer) {
    const uint64_t per_block = std::max<uint64_t>(1, kTargetBlockBytes / record);
    for (uint64_t done = 0; done < count;) {
      BlockHeader b;
      b.type = type;
      b.table = table;
      b.count = static_cast<uint32_t>(std::min(per_block, count - done));
      b.payload_bytes = uint64_t{b.count} * record;
      const char* payload = data + done * record;
      b.payload_crc = Crc32(payload, b.payload_bytes);
      const std::string bh = EncodeBlockHeader(b);
      RETURN_IF_ERROR(file.Append(bh.data(), bh.size()));
      RETURN_IF_ERROR(file.Append(payload, b.payload_bytes));
      ++footer->blocks;
      (type == BlockType::kRows ? footer->rows : footer->tombstones) += b.count;
      done += b.count;
    }
    return Status::OK();
  }

  const std::vector<EmbeddingTable*> tables_;
  const CutInfo info_;
  std::vector<uint64_t> steps_;  // [table] push counter at the cut
  bool ended_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<CheckpointWriter>> Cut(const std::vector<EmbeddingTable*>& tables,
                                                const CutInfo& info) {
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i]->config().id != i) {
      return InvalidArgument("table '" + tables[i]->config().name + "' has id " +
                             std::to_string(tables[i]->config().id) + " but is at index " +
                             std::to_string(i));
    }
  }
  const bool delta = info.kind == Kind::kDelta;
  for (EmbeddingTable* t : tables) RETURN_IF_ERROR(t->CheckCut(delta));
  for (size_t i = 0; i < tables.size(); ++i) {
    Status st = tables[i]->BeginCut(delta);
    if (!st.ok()) {
      // Only when cuts race: the tables already cut lose their delta base,
      // as their copies may have reset change tracking.
      for (size_t j = 0; j < i; ++j) tables[j]->EndCut(false);
      return st;
    }
  }
  return std::unique_ptr<CheckpointWriter>(new Writer(tables, info));
}

}  // namespace embedps::ps::checkpoint
