#include "tests/support/test_sshd.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "tests/support/subprocess.h"

namespace embedps::testing {
namespace {

constexpr char kSshd[] = "/usr/sbin/sshd";
constexpr char kKeygen[] = "/usr/bin/ssh-keygen";
constexpr char kSsh[] = "/usr/bin/ssh";

// Binds 127.0.0.1:port (0: any) and returns the bound port, or 0.
int TryBind(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  int bound = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = ntohs(addr.sin_port);
  }
  close(fd);
  return bound;
}

std::string UserName() {
  const passwd* pw = getpwuid(getuid());
  return pw != nullptr ? pw->pw_name : "root";
}

}  // namespace

int FreePortRange(int count) {
  // Below the kernel's ephemeral range: a port free now must stay free until
  // the test binds it, and other tests' port-0 binds are handed ephemeral
  // ports (a Slurm test once lost its port to one).
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  const int last = std::max(20000 + count, ephemeral_low - count - 1);
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int first = std::uniform_int_distribution<int>(20000, last)(rng);
    int ok = 0;
    while (ok < count && TryBind(first + ok) == first + ok) ++ok;
    if (ok == count) return first;
  }
  return 0;
}

Status TestSshd::WriteConfigs() {
  port_ = FreePortRange(1);
  if (port_ == 0) return Internal("no free port for sshd");
  std::ofstream(dir_ + "/sshd_config")
      << "Port " << port_ << "\nListenAddress 127.0.0.1\nHostKey " << dir_ << "/host_key\n"
      << "AuthorizedKeysFile " << dir_ << "/authorized_keys\nPidFile none\nStrictModes no\n"
      << "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
      << "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nPrintMotd no\n"
      << "UseDNS no\nLogLevel ERROR\n";
  // Sanitized test runs: the daemons the launcher starts over ssh get the
  // sanitizer settings (suppressions) this test runs with.
  for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"}) {
    const char* value = std::getenv(name);
    // Quoted: TSAN_OPTIONS separates its settings with spaces.
    if (value != nullptr && *value != '\0' && std::strpbrk(value, "\"\n") == nullptr) {
      std::ofstream(dir_ + "/sshd_config", std::ios::app) << "SetEnv \"" << name << "=" << value << "\"\n";
    }
  }
  std::ofstream(config()) << "Host *\n  Port " << port_ << "\n  User " << UserName()
                          << "\n  IdentityFile " << dir_ << "/client_key\n  IdentitiesOnly yes\n"
                          << "  UserKnownHostsFile " << dir_ << "/known_hosts\n"
                          << "  StrictHostKeyChecking no\n  LogLevel ERROR\n"
                          // Much cheaper than the default post-quantum exchange
                          // on a 2-core machine; the keys never leave the test.
                          << "  KexAlgorithms curve25519-sha256\n";
  return Status::OK();
}

Status TestSshd::AwaitLogin() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto exit = group_.WaitAny(std::chrono::milliseconds(0))) {
      return FailedPrecondition("sshd exited at start: " + ReadFile(dir_ + "/sshd.log"));
    }
    auto r = RunProgram(kSsh, {"-F", config(), "-o", "BatchMode=yes", "127.0.0.1", "true"},
                        dir_ + "/login.log", std::chrono::seconds(10));
    if (r.exit_code == 0) return Status::OK();
    last = r.output;
    std::remove((dir_ + "/login.log").c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return FailedPrecondition("cannot log in to the test sshd: " + last + ReadFile(dir_ + "/sshd.log"));
}

Status TestSshd::Start() {
  for (const char* tool : {kSshd, kKeygen, kSsh}) {
    if (access(tool, X_OK) != 0) {
      return FailedPrecondition(std::string(tool) +
                                " is not installed (apt-get install openssh-server openssh-client)");
    }
  }
  // sshd refuses to start without its privilege separation directory, which
  // the package's service unit normally creates.
  if (getuid() == 0) mkdir("/run/sshd", 0755);
  for (const char* key : {"host_key", "client_key"}) {
    auto r = RunProgram(kKeygen, {"-q", "-t", "ed25519", "-N", "", "-f", dir_ + "/" + key},
                        dir_ + "/keygen.log", std::chrono::seconds(20));
    if (r.exit_code != 0) return Internal("ssh-keygen failed: " + r.output);
  }
  std::ofstream(dir_ + "/authorized_keys") << ReadFile(dir_ + "/client_key.pub");
  chmod((dir_ + "/authorized_keys").c_str(), 0600);
  RETURN_IF_ERROR(WriteConfigs());
  launch::ChildSpec spec{"sshd", kSshd, {"-D", "-e", "-f", dir_ + "/sshd_config"}, dir_ + "/sshd.log"};
  RETURN_IF_ERROR(group_.Start(spec).status());
  return AwaitLogin();
}

}  // namespace embedps::testing
