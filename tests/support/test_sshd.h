// A private sshd for tests: listens on 127.0.0.1 at a free port, with a host
// key and one authorized client key generated into a scratch directory, and
// an ssh client config (`ssh -F config()`) that logs in as the current user
// without touching ~/.ssh.
#pragma once

#include <string>

#include "common/status.h"
#include "launch/process_group.h"

namespace embedps::testing {

class TestSshd {
 public:
  // `dir` holds the keys, configs and sshd's log; it must outlive this.
  explicit TestSshd(std::string dir) : dir_(std::move(dir)) {}

  // Generates the keys, starts sshd and waits until a login works.
  // FailedPrecondition (a reason to skip) when sshd or ssh-keygen is not
  // installed or sshd cannot run here; other errors are failures.
  Status Start();

  // The client config file for `ssh -F`.
  std::string config() const { return dir_ + "/ssh_config"; }
  int port() const { return port_; }

 private:
  Status WriteConfigs();
  Status AwaitLogin();

  std::string dir_;
  int port_ = 0;
  launch::ProcessGroup group_;  // sshd -D; killed with the group
};

// A port on 127.0.0.1 that was free a moment ago, such that the `count`
// ports from it are all free.
int FreePortRange(int count);

}  // namespace embedps::testing
