// Fuzz targets: functions that feed one input of arbitrary bytes to a parser
// and must neither crash nor trip a sanitizer, whatever the bytes. Each one
// also checks an invariant of what it parsed and traps when it fails, so a
// wrong result is a finding too.
//
// The same functions run two ways: as libFuzzer binaries (fuzz_<name>, built
// with clang and -DEMBEDPS_FUZZ=ON, driven by scripts/fuzz.sh), and in the
// normal build through fuzz_replay_test, which runs every file of
// tests/fuzz/corpus/<name>/ and tests/fuzz/regressions/<name>/.
//
// Adding a target: write `int FuzzFoo(const uint8_t*, size_t)` in
// targets/foo_fuzz.cc, declare it here, list it in targets/registry.cc, and
// put a few seed inputs in corpus/<name>/. CMake reads the names from the
// registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ps/embedding_table.h"

namespace embedps::fuzz {

// Envelope + payload frames through wire::Decode (frames are cut from the
// input; see targets/wire_decode_fuzz.cc).
int FuzzWireDecode(const uint8_t* data, size_t size);
// Lines of Criteo TSV through data::ParseCriteoLine.
int FuzzCriteoLine(const uint8_t* data, size_t size);
// Lines of MovieLens u.data / ratings.dat / ratings.csv through the three
// rating parsers.
int FuzzRatingLine(const uint8_t* data, size_t size);
// Lines of libsvm through data::ParseLibsvmLine.
int FuzzLibsvmLine(const uint8_t* data, size_t size);
// An exported-model (.epsmodel) file through ReadModelShard.
int FuzzModelFile(const uint8_t* data, size_t size);
// Table declarations (--tables / --tables_file) through ps::ParseTableSpecs.
int FuzzTableSpec(const uint8_t* data, size_t size);
// A server checkpoint file through ps::checkpoint::Verify and Restore.
int FuzzCheckpointFile(const uint8_t* data, size_t size);

// The table the checkpoint_file target restores into (and its seeds are
// written from).
ps::TableConfig CheckpointFuzzTableConfig();

// Frames in the wire_decode target's input format (for writing seeds).
std::string FrameWireInput(const std::vector<zmq::message_t>& frames);

struct FuzzTarget {
  const char* name;  // corpus folder and binary suffix
  int (*fn)(const uint8_t* data, size_t size);
};

// Every target, in a fixed order.
const std::vector<FuzzTarget>& FuzzTargets();

// The target called `name`, or nullptr.
const FuzzTarget* FindFuzzTarget(const std::string& name);

// Stops the process in a way both libFuzzer and gtest report, naming the
// invariant that failed.
[[noreturn]] void FuzzInvariantFailed(const char* what);

}  // namespace embedps::fuzz
