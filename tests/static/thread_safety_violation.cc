// Deliberately wrong, and compiled into no target: the ctest test
// thread_safety_violation_rejected runs clang's -Wthread-safety on it and
// passes only if clang rejects the unlocked read below, which shows that
// scripts/thread_safety_check.sh can fail.
#include "common/mutex.h"

namespace embedps {

class Tally {
 public:
  void Add(int n) {
    MutexLock lock(&mu_);
    total_ += n;
  }
  int total() const { return total_; }  // the violation: mu_ is not held

 private:
  mutable Mutex mu_;
  int total_ GUARDED_BY(mu_) = 0;
};

int ReadTally() {
  Tally t;
  t.Add(1);
  return t.total();
}

}  // namespace embedps
