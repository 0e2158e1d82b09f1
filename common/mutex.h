// A std::mutex that clang's thread-safety analysis knows about, and its
// scoped lock. std::mutex carries no annotations with libstdc++, so fields
// GUARDED_BY one could not be checked.
//
//   mutable Mutex mu_;
//   int count_ GUARDED_BY(mu_) = 0;
//   ...
//   MutexLock lock(&mu_);
//   ++count_;
#pragma once

#include <mutex>

#include "common/thread_annotations.h"

namespace embedps {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

  // BasicLockable spelling, so std::unique_lock<Mutex> and
  // std::condition_variable_any work with it.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

  // Tells the analysis that the calling thread holds this mutex where it
  // cannot see so, as in a callback that its caller runs under the lock.
  // Checks nothing at run time (std::mutex cannot say who holds it).
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  std::mutex mu_;
};

// Holds `mu` from construction to the end of the scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace embedps
