#include "ps/checkpoint/block_pipeline.h"

#include <condition_variable>
#include <thread>

#include "common/mutex.h"

namespace embedps::ps::checkpoint {

Status ReadAheadEach(const std::vector<BlockWalk>& walks,
                     const std::function<Status(const BlockWalk& walk, const BlockRef& block,
                                                const char* payload)>& fn) {
  // Blocks are about 1 MiB: four in flight keep the reader busy while the
  // loader works, in a few MiB.
  constexpr size_t kDepth = 4;
  struct Slot {
    BlockRef block;
    size_t walk = 0;
    std::vector<char> payload;
  };
  std::vector<Slot> slots(kDepth);
  Mutex mu;
  std::condition_variable_any cv;
  size_t read = 0;       // blocks in their slots
  size_t consumed = 0;   // blocks handed to fn and returned
  bool finished = false;  // the reader has read everything
  bool stop = false;      // fn failed: the reader stops
  Status read_error;

  std::thread reader([&] {
    size_t i = 0;
    for (size_t w = 0; w < walks.size(); ++w) {
      FileReader& file = *walks[w].file;
      file.Rewind();
      while (true) {
        {
          std::unique_lock<Mutex> lock(mu);
          // Slot i % kDepth is free once block i - kDepth is consumed.
          cv.wait(lock, [&] { return stop || i - consumed < kDepth; });
          if (stop) return;
        }
        Slot& slot = slots[i % kDepth];
        StatusOr<bool> more = file.Next(&slot.block, &slot.payload, walks[w].type);
        if (!more.ok()) {
          MutexLock lock(&mu);
          read_error = more.status();
          finished = true;
          cv.notify_all();
          return;
        }
        if (!*more) break;
        if (slot.block.header.type != walks[w].type) continue;
        slot.walk = w;
        {
          MutexLock lock(&mu);
          read = ++i;
        }
        cv.notify_all();
      }
    }
    MutexLock lock(&mu);
    finished = true;
    cv.notify_all();
  });

  Status result;
  for (size_t i = 0;; ++i) {
    {
      std::unique_lock<Mutex> lock(mu);
      cv.wait(lock, [&] { return read > i || finished; });
      if (read <= i) {
        result = read_error;  // OK when everything was read
        break;
      }
    }
    const Slot& slot = slots[i % kDepth];
    Status st = fn(walks[slot.walk], slot.block, slot.payload.data());
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
