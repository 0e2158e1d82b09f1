// The simulated world of one seed: a virtual clock, an event queue, and a
// network between processes. Everything random comes from one generator
// seeded by the seed, and events at the same time run in the order they
// were scheduled, so a seed replays exactly.
//
// The network is ZeroMQ over TCP as the nodes see it: messages on one link
// (sender, receiver) arrive in order, after a random delay; links to
// different peers interleave freely; a message to a process that has died
// is lost, and one to a stalled process waits until it runs again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "common/transport.h"

namespace embedps::sim {

// Lines [first, end) of lease `lease` (a partition id, unique per pass):
// the data-plane push of one batch, to the server that owns `lease`.
struct DataPush {
  uint64_t seq = 0;  // per sender: a resend repeats it
  uint32_t lease = 0;
  uint64_t first = 0;
  uint64_t end = 0;
  uint64_t epoch = 0;  // the sender's shard map
};
struct DataAck {
  uint64_t seq = 0;
  bool applied = false;  // false: not this server's rows (any more); retry
};

// What travels between processes: a control message or a data push/ack.
struct Packet {
  std::string from;
  std::string to;
  bool is_control = true;
  wire::Header header;  // control messages
  wire::Body body;
  DataPush push;
  DataAck ack;
};

class World {
 public:
  explicit World(uint64_t seed) : rng_(seed) {}

  Clock::time_point now() const { return now_; }
  double Seconds() const { return std::chrono::duration<double>(now_ - start_).count(); }
  std::mt19937_64& rng() { return rng_; }
  double Uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  bool Chance(double p) { return Uniform(0, 1) < p; }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // Runs `fn` after `delay` (as the process `owner`: held while it is
  // stalled, dropped once it died; "" for the world itself).
  void At(Clock::duration delay, const std::string& owner, std::function<void()> fn);
  // Sends `p` over the network (p.from to p.to).
  void Send(Packet p);

  // Processes: a packet for `address` is handed to its receiver.
  void Attach(const std::string& address, std::function<void(const Packet&)> receiver);
  void Kill(const std::string& address);  // SIGKILL: gone, with its mail and timers
  void Stall(const std::string& address, bool stalled);  // SIGSTOP / SIGCONT
  bool Alive(const std::string& address) const;

  // Runs events until `done` says so or the queue is empty or `limit`
  // passes; false when it stopped for the limit.
  bool RunUntil(const std::function<bool()>& done, Clock::duration limit);
  uint64_t events() const { return events_; }

  // Network behaviour, set per seed.
  double min_delay_ms = 0.05;
  double max_delay_ms = 2.0;

 private:
  struct Event {
    Clock::time_point at;
    uint64_t order;
    std::string owner;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };
  struct Process {
    std::function<void(const Packet&)> receive;
    bool dead = false;
    bool stalled = false;
    std::vector<Event> held;  // what came while stalled
  };
  void Run(Event e);

  std::mt19937_64 rng_;
  Clock::time_point start_ = Clock::time_point() + std::chrono::hours(1);
  Clock::time_point now_ = start_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  uint64_t order_ = 0;
  uint64_t events_ = 0;
  std::map<std::string, Process> processes_;
  std::map<std::pair<std::string, std::string>, Clock::time_point> link_free_;  // FIFO per link
};

}  // namespace embedps::sim
