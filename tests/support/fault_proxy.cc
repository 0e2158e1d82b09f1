#include "tests/support/fault_proxy.h"

#include <map>
#include <optional>
#include <random>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/hash.h"
#include "common/security/socket_security.h"
#include "common/security/zap_handler.h"
#include "common/transport.h"

namespace embedps::testing {

FaultCounts& FaultCounts::operator+=(const FaultCounts& o) {
  messages += o.messages;
  dropped += o.dropped;
  delayed += o.delayed;
  duplicated += o.duplicated;
  reordered += o.reordered;
  return *this;
}

class FaultProxy::Loop {
 public:
  Loop(std::string upstream, FaultRates rates, uint64_t seed, std::string member_password)
      : upstream_(std::move(upstream)), rates_(rates), seed_(seed), member_password_(std::move(member_password)),
        frontend_(ctx_, zmq::socket_type::router) {
    Configure(frontend_);
  }

  // Its clients present the cluster password, as to the server itself.
  Status Secure() {
    if (member_password_.empty()) return Status::OK();
    ASSIGN_OR_RETURN(zap_, security::ZapHandler::StartForPassword(ctx_, member_password_, nullptr));
    return security::SecureBindingSocket(frontend_, {}, member_password_);
  }

  StatusOr<std::string> Bind() {
    RETURN_IF_ERROR(Secure());
    return BindSocket(frontend_, "tcp://127.0.0.1:0");
  }

  void Run(const std::atomic<bool>& stop) {
    try {
      while (!stop.load()) {
        std::vector<zmq::pollitem_t> items{{frontend_.handle(), 0, ZMQ_POLLIN, 0}};
        for (auto& c : clients_) items.push_back({c->backend.handle(), 0, ZMQ_POLLIN, 0});
        const bool pending = !delayed_.empty() || AnyHeld();
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(pending ? 2 : 50));
        if (items[0].revents & ZMQ_POLLIN) FromWorker();
        for (size_t i = 0; i + 1 < items.size(); ++i) {
          if (items[i + 1].revents & ZMQ_POLLIN) FromServer(i);
        }
        ReleaseDue();
      }
    } catch (const zmq::error_t&) {
      // Shutting down.
    }
    clients_.clear();
    frontend_.close();
  }

  FaultCounts counts() const {
    FaultCounts c;
    c.messages = messages_.load();
    c.dropped = dropped_.load();
    c.delayed = delayed_count_.load();
    c.duplicated = duplicated_.load();
    c.reordered = reordered_.load();
    return c;
  }

 private:
  using Clock = std::chrono::steady_clock;
  using Frames = std::vector<zmq::message_t>;
  // One direction of one worker's connection.
  struct Path {
    std::mt19937_64 rng;
    std::optional<Frames> held;  // a message waiting to be overtaken
    Clock::time_point held_since;
  };
  struct Client {
    zmq::message_t routing_id;
    zmq::socket_t backend;
    Path up, down;  // up: worker -> server
  };
  struct Delayed {
    Clock::time_point due;
    size_t client;
    bool up;
    Frames frames;
  };

  static void Configure(zmq::socket_t& s) {
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::sndhwm, 100000);
    s.set(zmq::sockopt::rcvhwm, 100000);
  }

  static Frames Copy(Frames& frames) {
    Frames out;
    for (auto& f : frames) out.emplace_back().copy(f);
    return out;
  }

  bool AnyHeld() const {
    for (const auto& c : clients_) {
      if (c->up.held || c->down.held) return true;
    }
    return false;
  }

  void FromWorker() {
    Frames frames;
    if (!zmq::recv_multipart(frontend_, std::back_inserter(frames), zmq::recv_flags::dontwait)) return;
    if (frames.size() < 2) return;
    const std::string id = frames[0].to_string();
    auto it = client_of_.find(id);
    if (it == client_of_.end()) {
      const size_t index = clients_.size();
      auto c = std::make_unique<Client>(Client{zmq::message_t(id.data(), id.size()),
                                               zmq::socket_t(ctx_, zmq::socket_type::dealer), {}, {}});
      Configure(c->backend);
      (void)security::SecureConnectingSocket(c->backend, {}, member_password_);
      c->backend.connect(upstream_);
      c->up.rng.seed(HashCombine(seed_, 2 * index));
      c->down.rng.seed(HashCombine(seed_, 2 * index + 1));
      clients_.push_back(std::move(c));
      it = client_of_.emplace(id, index).first;
    }
    frames.erase(frames.begin());
    Route(it->second, /*up=*/true, std::move(frames));
  }

  void FromServer(size_t index) {
    Frames frames;
    if (!zmq::recv_multipart(clients_[index]->backend, std::back_inserter(frames),
                             zmq::recv_flags::dontwait)) {
      return;
    }
    Route(index, /*up=*/false, std::move(frames));
  }

  void Route(size_t index, bool up, Frames frames) {
    Client& c = *clients_[index];
    Path& path = up ? c.up : c.down;
    ++messages_;
    const double u = std::uniform_real_distribution<double>(0, 1)(path.rng);
    double edge = rates_.drop;
    if (u < edge) {
      ++dropped_;
      return;
    }
    if (u < (edge += rates_.delay)) {
      ++delayed_count_;
      const auto ms = std::uniform_int_distribution<int64_t>(1, rates_.max_delay.count())(path.rng);
      delayed_.push_back({Clock::now() + std::chrono::milliseconds(ms), index, up, std::move(frames)});
      return;
    }
    if (u < (edge += rates_.duplicate)) {
      ++duplicated_;
      Deliver(index, up, Copy(frames));
    } else if (u < (edge += rates_.reorder) && !path.held) {
      ++reordered_;
      path.held = std::move(frames);
      path.held_since = Clock::now();
      return;
    }
    Deliver(index, up, std::move(frames));
    if (path.held) {
      // The held message goes after the one that overtook it.
      Deliver(index, up, std::move(*path.held));
      path.held.reset();
    }
  }

  void Deliver(size_t index, bool up, Frames frames) {
    Client& c = *clients_[index];
    if (up) {
      (void)SendFrames(c.backend, std::move(frames));
    } else {
      (void)SendFrames(frontend_, std::move(frames), &c.routing_id);
    }
  }

  void ReleaseDue() {
    const auto now = Clock::now();
    for (size_t i = 0; i < delayed_.size();) {
      if (delayed_[i].due <= now) {
        Delayed d = std::move(delayed_[i]);
        delayed_.erase(delayed_.begin() + i);
        Deliver(d.client, d.up, std::move(d.frames));
      } else {
        ++i;
      }
    }
    // A held message whose path went quiet is released after a short wait.
    for (size_t i = 0; i < clients_.size(); ++i) {
      for (bool up : {true, false}) {
        Path& path = up ? clients_[i]->up : clients_[i]->down;
        if (path.held && now - path.held_since > std::chrono::milliseconds(20)) {
          Deliver(i, up, std::move(*path.held));
          path.held.reset();
        }
      }
    }
  }

  std::string upstream_;
  FaultRates rates_;
  uint64_t seed_;
  std::string member_password_;
  zmq::context_t ctx_{1};
  std::unique_ptr<security::ZapHandler> zap_;  // checks the clients' password
  zmq::socket_t frontend_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::map<std::string, size_t> client_of_;
  std::vector<Delayed> delayed_;
  std::atomic<uint64_t> messages_{0}, dropped_{0}, delayed_count_{0}, duplicated_{0}, reordered_{0};
};

FaultProxy::FaultProxy(std::string upstream, FaultRates rates, uint64_t seed, std::string member_password)
    : upstream_(std::move(upstream)), rates_(rates), seed_(seed), member_password_(std::move(member_password)) {}

FaultProxy::~FaultProxy() { Stop(); }

Status FaultProxy::Start() {
  loop_ = std::make_unique<Loop>(upstream_, rates_, seed_, member_password_);
  ASSIGN_OR_RETURN(endpoint_, loop_->Bind());
  thread_ = std::thread([this] { loop_->Run(stop_); });
  return Status::OK();
}

void FaultProxy::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

FaultCounts FaultProxy::counts() const { return loop_ ? loop_->counts() : FaultCounts{}; }

}  // namespace embedps::testing
