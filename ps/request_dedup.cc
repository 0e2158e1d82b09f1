#include "ps/request_dedup.h"

#include <algorithm>

namespace embedps::ps {
namespace {

bool Test(const std::vector<uint64_t>& bits, uint64_t i) { return (bits[i / 64] >> (i % 64)) & 1; }
void Set(std::vector<uint64_t>& bits, uint64_t i) { bits[i / 64] |= uint64_t{1} << (i % 64); }
void Clear(std::vector<uint64_t>& bits, uint64_t i) { bits[i / 64] &= ~(uint64_t{1} << (i % 64)); }

}  // namespace

RequestDedup::RequestDedup(uint32_t window, uint32_t max_senders)
    : window_((uint64_t{window} + 63) / 64 * 64), max_senders_(max_senders) {}

void RequestDedup::Advance(Sender& s, uint64_t id) const {
  if (id - s.highest >= window_) {
    std::fill(s.applied.begin(), s.applied.end(), 0);
    std::fill(s.in_progress.begin(), s.in_progress.end(), 0);
  } else {
    for (uint64_t i = s.highest + 1; i <= id; ++i) {
      Clear(s.applied, i % window_);
      Clear(s.in_progress, i % window_);
    }
  }
  s.highest = id;
}

RequestDedup::Verdict RequestDedup::Claim(uint32_t sender, uint64_t request_id) {
  MutexLock lock(&mu_);
  auto it = senders_.find(sender);
  if (it == senders_.end()) {
    if (senders_.size() >= max_senders_) return Verdict::kTooManySenders;
    it = senders_.emplace(sender, Sender{}).first;
    it->second.applied.assign(window_ / 64, 0);
    it->second.in_progress.assign(window_ / 64, 0);
  }
  Sender& s = it->second;
  if (request_id > s.highest) Advance(s, request_id);
  if (request_id + window_ <= s.highest) return Verdict::kTooOld;
  const uint64_t slot = request_id % window_;
  if (Test(s.applied, slot)) return Verdict::kApplied;
  if (Test(s.in_progress, slot)) return Verdict::kInProgress;
  Set(s.in_progress, slot);
  return Verdict::kNew;
}

void RequestDedup::Finish(uint32_t sender, uint64_t request_id, bool applied) {
  MutexLock lock(&mu_);
  auto it = senders_.find(sender);
  if (it == senders_.end()) return;
  Sender& s = it->second;
  // The window may have moved past the id meanwhile; its slot is not ours.
  if (request_id + window_ <= s.highest) return;
  const uint64_t slot = request_id % window_;
  Clear(s.in_progress, slot);
  if (applied) Set(s.applied, slot);
}

std::vector<RequestDedup::SenderIds> RequestDedup::ExportApplied() {
  MutexLock lock(&mu_);
  std::vector<SenderIds> out;
  out.reserve(senders_.size());
  for (const auto& [id, s] : senders_) out.push_back(SenderIds{id, s.highest, s.applied});
  return out;
}

Status RequestDedup::ImportApplied(const std::vector<SenderIds>& ids) {
  MutexLock lock(&mu_);
  for (const SenderIds& in : ids) {
    if (in.applied.size() != window_ / 64) {
      return InvalidArgument("request ids tracked over a window of " + std::to_string(in.applied.size() * 64) +
                             ", this server's is " + std::to_string(window_));
    }
  }
  for (const SenderIds& in : ids) {
    auto it = senders_.find(in.sender);
    if (it == senders_.end()) {
      if (senders_.size() >= max_senders_) return ResourceExhausted("too many senders to track");
      Sender s;
      s.highest = in.highest;
      s.applied = in.applied;
      s.in_progress.assign(window_ / 64, 0);
      senders_.emplace(in.sender, std::move(s));
      continue;
    }
    // Bring both to the same highest id, then union the applied bits.
    Sender& s = it->second;
    std::vector<uint64_t> theirs = in.applied;
    if (in.highest > s.highest) {
      Advance(s, in.highest);
    } else if (in.highest < s.highest) {
      Sender shifted{in.highest, std::move(theirs), std::vector<uint64_t>(window_ / 64, 0)};
      Advance(shifted, s.highest);
      theirs = std::move(shifted.applied);
    }
    for (size_t w = 0; w < s.applied.size(); ++w) s.applied[w] |= theirs[w];
  }
  return Status::OK();
}

}  // namespace embedps::ps
