// A fault-injecting hop between workers and one server, for soak and fault
// tests: workers connect to endpoint(), and every message, in both
// directions, is forwarded, dropped, delayed, duplicated or reordered.
// Decisions come from a PRNG per connection and direction seeded from
// `seed`, so a given message stream always meets the same faults.
//
// It speaks plain ZeroMQ (no CURVE) and knows nothing of the wire format:
// it moves whole multi-frame messages. Runs one thread with its own context.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace embedps::testing {

struct FaultRates {
  // Probability of each fault for one message; the rest pass untouched.
  double drop = 0;
  double delay = 0;      // held for 1..max_delay, so later messages overtake it
  double duplicate = 0;  // sent twice
  double reorder = 0;    // swapped with the next message on the same path
  std::chrono::milliseconds max_delay{40};
};

struct FaultCounts {
  uint64_t messages = 0;
  uint64_t dropped = 0;
  uint64_t delayed = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  FaultCounts& operator+=(const FaultCounts& o);
};

class FaultProxy {
 public:
  // `member_password`: what the upstream server asks connecting peers for
  // (security::MemberPassword); the proxy presents it upstream and takes
  // any password from its own clients.
  FaultProxy(std::string upstream, FaultRates rates, uint64_t seed, std::string member_password = "");
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Binds on a free loopback port and starts forwarding.
  Status Start();
  // Stops forwarding; pending delayed messages are discarded.
  void Stop();

  const std::string& endpoint() const { return endpoint_; }
  // What happened so far (thread-safe).
  FaultCounts counts() const;

 private:
  class Loop;
  std::string upstream_;
  FaultRates rates_;
  uint64_t seed_;
  std::string member_password_;
  std::string endpoint_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace embedps::testing
