#include "ps/checkpoint/block_pipeline.h"

#include <condition_variable>
#include <thread>

#include "common/mutex.h"

namespace embedps::ps::checkpoint {

Status ReadAheadEach(const std::vector<BlockTask>& tasks,
                     const std::function<Status(const BlockTask& task, const char* payload)>& fn) {
  // Blocks are about 1 MiB: four in flight keep the reader busy while the
  // loader works, in a few MiB.
  constexpr size_t kDepth = 4;
  std::vector<std::vector<char>> buffers(kDepth);
  std::vector<Status> read_status(kDepth);
  Mutex mu;
  std::condition_variable_any cv;
  size_t read = 0;      // tasks whose block is in its buffer (or failed)
  size_t consumed = 0;  // tasks handed to fn and returned
  bool stop = false;

  std::thread reader([&] {
    for (size_t i = 0; i < tasks.size(); ++i) {
      {
        std::unique_lock<Mutex> lock(mu);
        // Buffer i % kDepth is free once task i - kDepth is consumed.
        cv.wait(lock, [&] { return stop || i - consumed < kDepth; });
        if (stop) return;
      }
      Status st = tasks[i].file->ReadBlock(*tasks[i].block, &buffers[i % kDepth]);
      const bool failed = !st.ok();
      {
        MutexLock lock(&mu);
        read_status[i % kDepth] = std::move(st);
        read = i + 1;
      }
      cv.notify_all();
      if (failed) return;
    }
  });

  Status result;
  for (size_t i = 0; i < tasks.size(); ++i) {
    Status st;
    {
      std::unique_lock<Mutex> lock(mu);
      cv.wait(lock, [&] { return read > i; });
      st = read_status[i % kDepth];
    }
    if (st.ok()) st = fn(tasks[i], buffers[i % kDepth].data());
    const bool failed = !st.ok();
    {
      MutexLock lock(&mu);
      consumed = i + 1;
      stop = failed;
    }
    cv.notify_all();
    if (failed) {
      result = std::move(st);
      break;
    }
  }
  reader.join();
  return result;
}

}  // namespace embedps::ps::checkpoint
