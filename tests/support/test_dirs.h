// Where tests find the built daemons, shared datasets and scratch space.
#pragma once

#include <cstdint>
#include <string>

namespace embedps::testing {

// Directory holding embedps, embedps-server, embedps-worker and
// embedps-scheduler for this build.
std::string BinDir();

// The root of the source checkout (for scripts and deployment files).
std::string SourceDir();

// ../shared/data next to the checkout, or $EMBEDPS_DATA_DIR when set. The
// directory may not exist (as on a user's machine): tests must skip then.
std::string SharedDataDir();

// A directory that outlives the test, for files a person may want to look
// at afterwards (screenshots): build/test-output/<name>, created on demand.
std::string TestOutputDir(const std::string& name);

// build/test-artifacts, created on demand: artifacts CI keeps.
std::string ArtifactsDir();

// A fresh, empty directory under the test temp dir, removed by the caller
// (ScratchDir does it automatically).
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to File(name) and returns that path.
  std::string Write(const std::string& name, const std::string& content) const;
  // Writes `content` gzip-compressed to File(name) and returns that path.
  std::string WriteGzip(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace embedps::testing
