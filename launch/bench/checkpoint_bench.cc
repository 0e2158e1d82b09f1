#include "launch/bench/checkpoint_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "launch/bench/table_fill.h"
#include "ps/checkpoint/checkpoint.h"

namespace embedps::launch {
namespace {

namespace fs = std::filesystem;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs dd writing `mib` MiB with fdatasync into `dir`; bytes per second.
StatusOr<double> DdBytesPerSecond(const std::string& dir, uint64_t mib) {
  const std::string file = dir + "/ddtest";
  const std::string command = "dd if=/dev/zero of='" + file + "' bs=1M count=" +
                              std::to_string(mib) + " conv=fdatasync 2>/dev/null";
  const auto start = std::chrono::steady_clock::now();
  const int rc = std::system(command.c_str());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove(file);
  if (rc != 0) return Unavailable("'" + command + "' failed (exit status " + std::to_string(rc) + ")");
  return mib * 1048576.0 / seconds;
}

// Drops `path`'s pages from the page cache (they are clean once written
// and synced), so the next read comes from the disk, as after a reboot or
// on another machine.
Status EvictFromPageCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path);
  const int rc = fdatasync(fd) == 0 ? posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) : errno;
  close(fd);
  if (rc != 0) return Unavailable("cannot drop " + path + " from the page cache: " + std::strerror(rc));
  return Status::OK();
}

StatusOr<double> RestoreSeconds(const ps::TableConfig& config, const std::string& path,
                                uint64_t want_rows) {
  ASSIGN_OR_RETURN(auto fresh, ps::EmbeddingTable::Create(config));
  ASSIGN_OR_RETURN(const auto restored,
                   ps::checkpoint::Restore({{path}}, [](uint32_t, uint64_t) { return true; },
                                           {fresh.get()}));
  if (restored.rows_loaded != want_rows) return Internal("restore loaded the wrong row count");
  return restored.seconds;
}

struct Run {
  double write_seconds, verify_seconds, restore_seconds, cold_restore_seconds;
  uint64_t bytes;
};

// `table` is released after the write of the last run, so that a table of
// half the machine's memory can be restored.
StatusOr<Run> WriteAndRestore(const ps::TableConfig& config, std::unique_ptr<ps::EmbeddingTable>& table,
                              const std::string& path, uint64_t id, bool last) {
  ps::checkpoint::CutInfo info;
  info.checkpoint_id = id;
  const uint64_t rows = table->size();
  ps::checkpoint::WriteStats written;
  {
    // The writer ends the cut when it goes: before the table may.
    ASSIGN_OR_RETURN(auto writer, ps::checkpoint::Cut({table.get()}, info));
    ASSIGN_OR_RETURN(written, writer->Write(path));
  }
  if (last) table.reset();
  const auto verify_start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(ps::checkpoint::Verify(path));
  const double verify_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - verify_start).count();
  RETURN_IF_ERROR(EvictFromPageCache(path));
  ASSIGN_OR_RETURN(const double cold, RestoreSeconds(config, path, rows));
  ASSIGN_OR_RETURN(const double warm, RestoreSeconds(config, path, rows));
  fs::remove(path);
  return Run{written.seconds, verify_seconds, warm, cold, written.bytes};
}

}  // namespace

Status RunCheckpointBench(const CheckpointBenchOptions& o) {
  ASSIGN_OR_RETURN(const ps::TableConfig config, BenchTableConfig(o.rows, o.dim, o.optimizer, o.fp16));
  ASSIGN_OR_RETURN(auto table, ps::EmbeddingTable::Create(config));
  RETURN_IF_ERROR(FillTable(*table, o.rows, "bench checkpoint", o.json));

  std::string dir = o.dir;
  const bool own_dir = dir.empty();
  if (own_dir) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr ? tmp : "/tmp") + "/embedps-ckpt-bench-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) return Unavailable("cannot create a directory under " + templ);
    dir = templ;
  }
  // dd runs before each write and restore, on a file of the same size, so
  // the reference sees the disk in the same state (this VM's disk speed
  // drifts by 2x and more within minutes).
  std::vector<double> writes, verifies, restores, cold_restores, dds;
  uint64_t bytes = 0;
  Status st;
  for (uint32_t i = 0; i < o.repeat && st.ok(); ++i) {
    // The first run's file size is not known yet: dd writes the rows'
    // payload, which the file exceeds by its headers only.
    const uint64_t mib = std::max<uint64_t>(1, (bytes > 0 ? bytes : table->size() * (8 + table->row_bytes())) >> 20);
    const bool last = i + 1 == o.repeat;
    auto dd = DdBytesPerSecond(dir, mib);
    if (!dd.ok()) {
      st = dd.status();
      break;
    }
    dds.push_back(*dd);
    auto run = WriteAndRestore(config, table, dir + "/bench.ckpt", i + 1, last);
    if (!run.ok()) {
      st = run.status();
      break;
    }
    writes.push_back(run->write_seconds);
    verifies.push_back(run->verify_seconds);
    restores.push_back(run->restore_seconds);
    cold_restores.push_back(run->cold_restore_seconds);
    bytes = run->bytes;
  }
  if (own_dir) fs::remove_all(dir);
  RETURN_IF_ERROR(st);
  const double write_gbs = bytes / Median(writes) / 1e9;
  const double verify_gbs = bytes / Median(verifies) / 1e9;
  const double restore_gbs = bytes / Median(restores) / 1e9;
  const double cold_restore_gbs = bytes / Median(cold_restores) / 1e9;
  const double dd_gbs = Median(dds) / 1e9;
  nlohmann::json j = {{"bench", "checkpoint"}, {"rows", o.rows},         {"dim", o.dim},
                      {"optimizer", o.optimizer}, {"fp16", o.fp16},      {"bytes", bytes},
                      {"write_seconds", Median(writes)}, {"verify_seconds", Median(verifies)}, {"restore_seconds", Median(restores)},
                      {"write_gb_per_s", write_gbs}, {"verify_gb_per_s", verify_gbs},
                      {"restore_gb_per_s", restore_gbs},
                      {"cold_restore_seconds", Median(cold_restores)},
                      {"cold_restore_gb_per_s", cold_restore_gbs},
                      {"dd_gb_per_s", dd_gbs}, {"write_vs_dd", write_gbs / dd_gbs},
                      {"restore_vs_dd", restore_gbs / dd_gbs},
                      {"cold_restore_vs_dd", cold_restore_gbs / dd_gbs}};
  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("bench checkpoint: %llu rows, dim %u, %s%s: %.1f MB file\n"
                "  write   %.3f s  %.2f GB/s (cut, copy, checksum, write, fsync, rename)\n"
                "  verify  %.3f s  %.2f GB/s (read and check every checksum; from the page cache)\n"
                "  restore %.3f s  %.2f GB/s (read, check and load into a new table, one pass; "
                "file in the page cache)\n"
                "  restore %.3f s  %.2f GB/s (the same, file dropped from the page cache first; "
                "runs first)\n"
                "  dd      %.2f GB/s (%.2f to %.2f; bs=1M conv=fdatasync, same directory, before each "
                "run)\n"
                "  write/dd = %.2f  restore/dd = %.2f  cold restore/dd = %.2f\n",
                static_cast<unsigned long long>(o.rows), o.dim, o.optimizer.c_str(),
                o.fp16 ? ", fp16" : "", bytes / 1e6, Median(writes), write_gbs, Median(verifies), verify_gbs,
                Median(restores), restore_gbs, Median(cold_restores), cold_restore_gbs, dd_gbs,
                *std::min_element(dds.begin(), dds.end()) / 1e9, *std::max_element(dds.begin(), dds.end()) / 1e9,
                write_gbs / dd_gbs, restore_gbs / dd_gbs, cold_restore_gbs / dd_gbs);
  }
  return Status::OK();
}

}  // namespace embedps::launch
