#include "sim/sim_world.h"

namespace embedps::sim {

void World::At(Clock::duration delay, const std::string& owner, std::function<void()> fn) {
  queue_.push(Event{now_ + delay, order_++, owner, std::move(fn)});
}

void World::Send(Packet p) {
  const auto delay = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(Uniform(min_delay_ms, max_delay_ms)));
  // In order on one link, as over one TCP connection.
  Clock::time_point& free = link_free_[{p.from, p.to}];
  const Clock::time_point at = std::max(now_ + delay, free);
  free = at;
  const std::string to = p.to;
  queue_.push(Event{at, order_++, to, [this, p = std::move(p)]() {
                      auto it = processes_.find(p.to);
                      if (it != processes_.end() && it->second.receive) it->second.receive(p);
                    }});
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
