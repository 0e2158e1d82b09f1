#include "tests/support/netns_lab.h"

#include <unistd.h>

#include <chrono>
#include <random>

#include "tests/support/subprocess.h"

namespace embedps::testing {
namespace {

std::string IpBinary() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

}  // namespace

NetnsLab::NetnsLab(std::vector<std::string> nodes) : nodes_(std::move(nodes)) {
  std::mt19937 rng(std::random_device{}());
  subnet_ = std::uniform_int_distribution<int>(0, 255)(rng);
  prefix_ = "eps" + std::to_string(getpid()) + "-";
}

NetnsLab::~NetnsLab() {
  group_.TerminateAll(std::chrono::milliseconds(0));
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    (void)Ip({"netns", "delete", *it});
  }
}

Status NetnsLab::Ip(const std::vector<std::string>& args) {
  const std::string ip = IpBinary();
  if (ip.empty()) return FailedPrecondition("iproute2's ip is not installed");
  const std::string log = "/tmp/" + prefix_ + "ip.log";
  auto r = RunProgram(ip, args, log, std::chrono::seconds(10));
  std::remove(log.c_str());
  if (r.exit_code != 0) {
    std::string cmd = "ip";
    for (const auto& a : args) cmd += " " + a;
    return Internal(cmd + " failed: " + r.output);
  }
  return Status::OK();
}

Status NetnsLab::Create() {
  if (geteuid() != 0) return FailedPrecondition("network namespaces need root");
  if (IpBinary().empty()) return FailedPrecondition("iproute2's ip is not installed");
  if (Status st = Ip({"netns", "add", SwitchNs()}); !st.ok()) {
    return FailedPrecondition("cannot create network namespaces here: " + st.message());
  }
  created_.push_back(SwitchNs());
  RETURN_IF_ERROR(Ip({"-n", SwitchNs(), "link", "add", "br0", "type", "bridge"}));
  RETURN_IF_ERROR(Ip({"-n", SwitchNs(), "link", "set", "br0", "up"}));
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const std::string port = "p" + std::to_string(i);
    RETURN_IF_ERROR(Ip({"netns", "add", Ns(i)}));
    created_.push_back(Ns(i));
    RETURN_IF_ERROR(Ip({"-n", Ns(i), "link", "add", "eth0", "type", "veth", "peer", "name", port,
                        "netns", SwitchNs()}));
    RETURN_IF_ERROR(Ip({"-n", SwitchNs(), "link", "set", port, "master", "br0"}));
    RETURN_IF_ERROR(Ip({"-n", SwitchNs(), "link", "set", port, "up"}));
    RETURN_IF_ERROR(Ip({"-n", Ns(i), "addr", "add", Address(i) + "/24", "dev", "eth0"}));
    RETURN_IF_ERROR(SetLink(i, true));
  }
  return Status::OK();
}

std::string NetnsLab::Address(size_t i) const {
  return "10.200." + std::to_string(subnet_) + "." + std::to_string(i + 1);
}

StatusOr<pid_t> NetnsLab::Start(size_t i, const std::string& name, const std::string& binary,
                                const std::vector<std::string>& args, const std::string& log_file,
                                bool inherit_stdout) {
  std::vector<std::string> argv = {"netns", "exec", Ns(i), binary};
  argv.insert(argv.end(), args.begin(), args.end());
  launch::ChildSpec spec{name, IpBinary(), argv, log_file, inherit_stdout};
  return group_.Start(spec);
}

Status NetnsLab::SetLink(size_t i, bool up) {
  return Ip({"-n", Ns(i), "link", "set", "eth0", up ? "up" : "down"});
}

}  // namespace embedps::testing
