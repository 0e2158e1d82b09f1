// A private network for multi-host tests on one machine: one network
// namespace per node, each with a veth link (eth0) to a bridge that lives in
// its own "switch" namespace, and addresses from a /24 that exists only
// inside these namespaces. Loopback stays down in the node namespaces, so
// nothing can quietly use 127.0.0.1. Nothing is created in the caller's own
// namespace. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "launch/process_group.h"

namespace embedps::testing {

class NetnsLab {
 public:
  // `nodes` names the node namespaces (short names like "sched", "s0").
  explicit NetnsLab(std::vector<std::string> nodes);
  // Kills every process started here, then deletes every namespace.
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  // Creates the namespaces and links. FailedPrecondition (a reason to skip)
  // without root, iproute2 or the rights to create namespaces.
  Status Create();

  // The address of node `i` (in constructor order), e.g. "10.200.37.2".
  std::string Address(size_t i) const;

  // Starts `binary args` inside node i's namespace, logging to `log_file`.
  StatusOr<pid_t> Start(size_t i, const std::string& name, const std::string& binary,
                        const std::vector<std::string>& args, const std::string& log_file,
                        bool inherit_stdout = false);

  // Sets node i's link down (as if its cable were pulled) or up again.
  Status SetLink(size_t i, bool up);

  launch::ProcessGroup& group() { return group_; }

 private:
  Status Ip(const std::vector<std::string>& args);
  std::string Ns(size_t i) const { return prefix_ + nodes_[i]; }
  std::string SwitchNs() const { return prefix_ + "switch"; }

  std::vector<std::string> nodes_;
  std::string prefix_;  // unique per lab, so parallel tests never collide
  int subnet_ = 0;      // the third octet of 10.200.x.0/24
  std::vector<std::string> created_;
  launch::ProcessGroup group_;
};

}  // namespace embedps::testing
