#include "sim/sim_world.h"

namespace embedps::sim {

void World::At(Clock::duration delay, const std::string& owner, std::function<void()> fn) {
  queue_.push(Event{now_ + delay, order_++, owner, std::move(fn)});
}

namespace {

std::pair<std::string, std::string> Ends(const std::string& a, const std::string& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

}  // namespace

uint64_t World::Connection(const std::string& a, const std::string& b) {
  if (resets_.empty()) return 1;
  auto it = resets_.find(Ends(a, b));
  return it == resets_.end() ? 1 : 1 + it->second;
}

void World::Send(Packet p, bool in_order) {
  double ms = Uniform(min_delay_ms, max_delay_ms);
  for (const std::string* end : {&p.from, &p.to}) {
    auto spike = spikes_.find(*end);
    if (spike != spikes_.end() && now_ < spike->second.until) ms += spike->second.extra_ms;
  }
  const auto delay = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
  const uint64_t conn = Connection(p.from, p.to);
  if (p.conn == 0) p.conn = conn;
  p.sent = now_;
  // A reply to a request of a broken connection: the ROUTER drops it.
  if (p.conn != conn) return;
  // In order on one link, as over one TCP connection.
  Clock::time_point& free = link_free_[{p.from, p.to}];
  const Clock::time_point at = in_order ? std::max(now_ + delay, free) : now_ + delay;
  if (in_order) free = at;
  const std::string to = p.to;
  queue_.push(Event{at, order_++, to, [this, p = std::move(p)]() {
                      // Lost in flight when its connection broke.
                      if (Connection(p.from, p.to) != p.conn) return;
                      auto it = processes_.find(p.to);
                      if (it != processes_.end() && it->second.receive) it->second.receive(p);
                    }});
}

void World::Reset(const std::string& a, const std::string& b) {
  ++resets_[Ends(a, b)];
  // ZeroMQ reconnects after its reconnect interval (100 ms by default, here
  // shorter or longer); what either side sends meanwhile waits for it.
  const Clock::time_point up = now_ + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double, std::milli>(Uniform(1, 150)));
  for (const auto& link : {std::make_pair(a, b), std::make_pair(b, a)}) {
    Clock::time_point& free = link_free_[link];
    free = std::max(free, up);
  }
}

void World::Spike(const std::string& address, Clock::duration length, double extra_ms) {
  spikes_[address] = DelaySpike{now_ + length, extra_ms};
}

void World::Attach(const std::string& address, std::function<void(const Packet&)> receiver) {
  processes_[address].receive = std::move(receiver);
}

void World::Kill(const std::string& address) {
  Process& p = processes_[address];
  p.dead = true;
  p.held.clear();
  p.receive = nullptr;
}

void World::Stall(const std::string& address, bool stalled) {
  Process& p = processes_[address];
  if (p.dead) return;
  p.stalled = stalled;
  if (stalled) return;
  // SIGCONT: what waited runs now, in its order.
  std::vector<Event> held = std::move(p.held);
  p.held.clear();
  for (Event& e : held) {
    e.at = now_;
    e.order = order_++;
    queue_.push(std::move(e));
  }
}

bool World::Alive(const std::string& address) const {
  auto it = processes_.find(address);
  return it != processes_.end() && !it->second.dead;
}

void World::Run(Event e) {
  if (!e.owner.empty()) {
    auto it = processes_.find(e.owner);
    if (it != processes_.end()) {
      if (it->second.dead) return;
      if (it->second.stalled) {
        it->second.held.push_back(std::move(e));
        return;
      }
    }
  }
  ++events_;
  e.fn();
}

bool World::RunUntil(const std::function<bool()>& done, Clock::duration limit) {
  const Clock::time_point end = now_ + limit;
  while (!done()) {
    if (queue_.empty()) return true;
    Event e = queue_.top();
    if (e.at > end) return false;
    queue_.pop();
    now_ = std::max(now_, e.at);
    Run(std::move(e));
  }
  return true;
}

}  // namespace embedps::sim
