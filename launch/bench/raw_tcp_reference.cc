#include "launch/bench/raw_tcp_reference.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace embedps::launch {
namespace {

// The socket buffers the cluster's sockets ask for (common/transport.cc).
constexpr int kSocketBuffer = 4 << 20;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  // Unblocks a thread reading or writing it.
  void Shutdown() const {
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  }

 private:
  int fd_;
};

Status Errno(const std::string& what) { return Unavailable("raw TCP reference: " + what + ": " + std::strerror(errno)); }

void TuneSocket(int fd) {
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof(kSocketBuffer));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof(kSocketBuffer));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// False once the peer is gone (or the socket was shut down).
bool ReadFully(int fd, char* p, size_t n) {
  while (n > 0) {
    const ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteFully(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

StatusOr<RawTcpFigures> MeasureRawTcpRoundTrips(size_t request_bytes, size_t reply_bytes, uint32_t depth,
                                                double seconds) {
  if (request_bytes == 0 || reply_bytes == 0 || depth == 0 || !(seconds > 0)) {
    return InvalidArgument("raw TCP reference: sizes, depth and seconds must be positive");
  }
  Fd listener(socket(AF_INET, SOCK_STREAM, 0));
  if (listener.get() < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return Errno("bind");
  if (listen(listener.get(), 1) != 0) return Errno("listen");
  if (getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return Errno("getsockname");
  Fd client(socket(AF_INET, SOCK_STREAM, 0));
  if (client.get() < 0) return Errno("socket");
  TuneSocket(client.get());
  if (connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return Errno("connect");
  Fd server(accept(listener.get(), nullptr, nullptr));
  if (server.get() < 0) return Errno("accept");
  TuneSocket(server.get());

  std::thread server_thread([&] {
    std::vector<char> request(request_bytes), reply(reply_bytes, 1);
    while (ReadFully(server.get(), request.data(), request_bytes) &&
           WriteFully(server.get(), reply.data(), reply_bytes)) {
    }
  });
  // The writer keeps `depth` requests outstanding; the reader returns slots.
  std::mutex mu;
  std::condition_variable cv;
  uint32_t outstanding = 0;
  bool stop = false;
  std::thread writer([&] {
    std::vector<char> request(request_bytes, 2);
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || outstanding < depth; });
        if (stop) return;
        ++outstanding;
      }
      if (!WriteFully(client.get(), request.data(), request_bytes)) return;
    }
  });
  std::vector<char> reply(reply_bytes);
  uint64_t done = 0;
  bool ok = true;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (!ReadFully(client.get(), reply.data(), reply_bytes)) {
      ok = false;
      break;
    }
    ++done;
    {
      std::lock_guard<std::mutex> lock(mu);
      --outstanding;
    }
    cv.notify_one();
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_one();
  client.Shutdown();
  server.Shutdown();
  writer.join();
  server_thread.join();
  if (!ok) return Unavailable("raw TCP reference: the loopback connection closed early");
  return RawTcpFigures{done / elapsed};
}

}  // namespace embedps::launch
