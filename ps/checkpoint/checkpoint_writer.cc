// Cut() and the writer: takes each table's stripes one by one (copied at
// the cut, by the writer or by a request that got there first), writes
// them as blocks, and frees each copy once written.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>

#include "common/mutex.h"

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

  // One stripe's copy cut into blocks, ready to write: the encoded block
  // headers and where each payload lies in the copy.
  struct Chunk {
    StripeCopy copy;
    std::vector<std::string> headers;
    std::vector<std::pair<const char*, uint64_t>> payloads;
  };

  // Chunks from the copying thread to the writing one, at most two waiting
  // (a stripe is 1/64 of a table: little memory in flight).
  class ChunkQueue {
   public:
    void Push(Chunk chunk) {
      std::unique_lock<Mutex> lock(mu_);
      cv_.wait(lock, [&] { return chunks_.size() < 2 || !status_.ok(); });
      if (!status_.ok()) return;
      chunks_.push_back(std::move(chunk));
      cv_.notify_all();
    }
    void Close() {
      MutexLock lock(&mu_);
      closed_ = true;
      cv_.notify_all();
    }
    // Writes chunks until the queue is closed and empty, or a write fails.
    void Drain(DurableFile& file) {
      while (true) {
        Chunk chunk;
        {
          std::unique_lock<Mutex> lock(mu_);
          cv_.wait(lock, [&] { return !chunks_.empty() || closed_; });
          if (chunks_.empty()) return;
          chunk = std::move(chunks_.front());
          chunks_.pop_front();
          cv_.notify_all();
        }
        Status st;
        for (size_t i = 0; i < chunk.headers.size() && st.ok(); ++i) {
          st = file.Append(chunk.headers[i].data(), chunk.headers[i].size());
          if (st.ok()) st = file.Append(chunk.payloads[i].first, chunk.payloads[i].second);
        }
        if (!st.ok()) {
          MutexLock lock(&mu_);
          status_ = st;
          cv_.notify_all();
          return;
        }
      }
    }
    bool failed() {
      MutexLock lock(&mu_);
      return !status_.ok();
    }
    Status status() {
      MutexLock lock(&mu_);
      return status_;
    }

   private:
    Mutex mu_;
    std::condition_variable_any cv_;
    std::deque<Chunk> chunks_;
    bool closed_ = false;
    Status status_;
  };

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
    // This thread copies stripes and checksums them; a second one writes
    // the chunks out, so copying, checksums and the kernel's copy into the
    // page cache overlap (about a third each of a write's CPU time).
    Footer footer;
    ChunkQueue queue;
    std::thread writer([&] { queue.Drain(*file); });
    for (uint32_t t = 0; t < tables_.size() && !queue.failed(); ++t) {
      for (uint32_t s = 0; s < tables_[t]->num_stripes() && !queue.failed(); ++s) {
        Chunk chunk;
        chunk.copy = tables_[t]->TakeCutStripe(s);
        AddBlocks(t, BlockType::kTombstones, reinterpret_cast<const char*>(chunk.copy.removed.data()),
                  chunk.copy.removed.size(), 8, &chunk, &footer);
        AddBlocks(t, BlockType::kRows, chunk.copy.records.get(), chunk.copy.count,
                  header.tables[t].record_bytes(), &chunk, &footer);
        queue.Push(std::move(chunk));  // freed once written
      }
    }
    queue.Close();
    writer.join();
    RETURN_IF_ERROR(queue.status());
    const std::string f = EncodeFooter(footer);
    RETURN_IF_ERROR(file->Append(f.data(), f.size()));
    RETURN_IF_ERROR(file->Commit());
    stats->rows = footer.rows;
    stats->tombstones = footer.tombstones;
    stats->bytes = file->bytes();
    return Status::OK();
  }

  // Cuts `count` records of `record` bytes into blocks of about
  // kTargetBlockBytes, with their checksums.
  static void AddBlocks(uint32_t table, BlockType type, const char* data, uint64_t count, size_t record,
                        Chunk* chunk, Footer* footer) {
    const uint64_t per_block = std::max<uint64_t>(1, kTargetBlockBytes / record);
    for (uint64_t done = 0; done < count;) {
      BlockHeader b;
      b.type = type;
      b.table = table;
      b.count = static_cast<uint32_t>(std::min(per_block, count - done));
      b.payload_bytes = uint64_t{b.count} * record;
      const char* payload = data + done * record;
      b.payload_crc = Crc32(payload, b.payload_bytes);
      chunk->headers.push_back(EncodeBlockHeader(b));
      chunk->payloads.emplace_back(payload, b.payload_bytes);
      ++footer->blocks;
      (type == BlockType::kRows ? footer->rows : footer->tombstones) += b.count;
      done += b.count;
    }
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
