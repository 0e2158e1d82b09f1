// The simulated world of one seed: a virtual clock, an event queue, and a
// network between processes. Everything random comes from one generator
// seeded by the seed, and events at the same time run in the order they
// were scheduled, so a seed replays exactly.
//
// The network is ZeroMQ over TCP as the nodes see it: messages on one link
// (sender, receiver) arrive in order, after a random delay; links to
// different peers interleave freely; a message to a process that has died
// is lost, and one to a stalled process waits until it runs again.
//
// Network faults, only those the real transport can produce
// (common/transport.cc sets no ZMTP heartbeats, no routing ids, no
// ROUTER_MANDATORY; docs/simulation.md):
// - a connection reset (Reset): the TCP connection between two processes
//   breaks; what is in flight on it, either way, is lost; ZeroMQ
//   reconnects after a short delay (messages sent meanwhile wait in the
//   connecting side's queue). Each connection has a number (Packet::conn):
//   a reply stamped with an older connection's number is dropped, as a
//   ROUTER drops a message to a peer that is no longer connected. A
//   DEALER that reconnects gets a new routing id at the ROUTER (the
//   simulator's scheduler sees `address#conn`).
// - a delay spike (Spike): for a while every message to or from a process
//   takes longer (a congested or lossy link under TCP retransmission),
//   still in order.
// - reordering of a request and its resend (Send with in_order false): a
//   client's early resend of a push (same request id) may be handled
//   before the original, as the server's handler threads may do; the
//   server must apply it once.
// Not modelled: loss, duplication or reordering on a live connection (TCP
// does not do that), corruption (TCP and ZMTP framing; the decoder's own
// tests cover malformed frames), and partitions longer than the death
// timeout (they look like a stall, which the fault plan covers).
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
  // --replicas=2, a primary's forward to its backup: its number (0: a
  // worker's push), the primary's rank, and the worker that pushed.
  uint64_t forward = 0;
  uint32_t primary_rank = 0;
  std::string origin;
};
struct DataAck {
  uint64_t seq = 0;
  bool applied = false;  // false: not this server's rows (any more); retry
  uint64_t forward = 0;  // non-zero: the backup's answer to that forward
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
  // The connection it travels on (0: the link's current one, stamped by
  // Send); a reply names the connection of its request.
  uint64_t conn = 0;
  Clock::time_point sent;  // stamped by Send
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
  // Sends `p` over the network (p.from to p.to); `in_order` false lets it
  // overtake what is in flight on its link (an early resend).
  void Send(Packet p, bool in_order = true);
  // The number of the current connection between `a` and `b`.
  uint64_t Connection(const std::string& a, const std::string& b);
  // Network faults (above): a connection reset between `a` and `b`, and a
  // delay spike of `extra_ms` on every message to or from `address`.
  void Reset(const std::string& a, const std::string& b);
  void Spike(const std::string& address, Clock::duration length, double extra_ms);

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
  // Resets so far by the link's ends, the lesser address first.
  std::map<std::pair<std::string, std::string>, uint64_t> resets_;
  struct DelaySpike {
    Clock::time_point until;
    double extra_ms = 0;
  };
  std::map<std::string, DelaySpike> spikes_;
};

}  // namespace embedps::sim
