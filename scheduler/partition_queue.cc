#include "scheduler/partition_queue.h"

#include <algorithm>
#include <random>

namespace embedps::scheduler {
namespace {

nlohmann::json LeaseJson(const Lease& l, uint64_t resume_at) {
  return {{"id", l.partition.id},     {"pass", l.pass},   {"file", l.partition.file},
          {"begin", l.partition.begin}, {"end", l.partition.end},
          {"first_line", l.partition.first_line}, {"skip_lines", resume_at}};
}

Lease LeaseFromJson(const nlohmann::json& j) {
  Lease l;
  l.partition.id = j.at("id").get<uint32_t>();
  l.pass = j.at("pass").get<uint32_t>();
  l.partition.file = j.at("file").get<std::string>();
  l.partition.begin = j.at("begin").get<uint64_t>();
  l.partition.end = j.at("end").get<uint64_t>();
  l.partition.first_line = j.at("first_line").get<uint64_t>();
  l.partition.skip_lines = j.at("skip_lines").get<uint64_t>();
  l.position = l.partition.skip_lines;
  return l;
}

}  // namespace

PartitionQueue::PartitionQueue(const std::vector<Partition>& partitions, uint32_t passes,
                               uint64_t shuffle_seed)
    : passes_(passes) {
  std::vector<Partition> order = partitions;
  for (uint32_t pass = 0; pass < passes; ++pass) {
    if (shuffle_seed != 0) {
      std::mt19937_64 rng(shuffle_seed + pass);
      std::shuffle(order.begin(), order.end(), rng);
    }
    for (const Partition& p : order) {
      Lease lease{p, pass, 0};
      // Make ids unique across passes so a lease is identified by its id alone.
      lease.partition.id = static_cast<uint32_t>(pass * partitions.size() + p.id);
      pending_.push_back(lease);
    }
  }
  total_ = pending_.size();
}

std::optional<Lease> PartitionQueue::Acquire(uint32_t worker) {
  if (pending_.empty()) return std::nullopt;
  Lease lease = pending_.front();
  pending_.pop_front();
  lease.worker = worker;
  lease.position = lease.partition.skip_lines;
  leases_[lease.partition.id] = lease;
  return lease;
}

void PartitionQueue::UpdatePosition(uint32_t worker, uint32_t partition_id, uint64_t position) {
  auto it = leases_.find(partition_id);
  if (it == leases_.end() || it->second.worker != worker) return;
  it->second.position = std::max(it->second.position, position);
}

uint64_t PartitionQueue::TrainedLines() const {
  uint64_t lines = 0;
  for (const auto& [id, ranges] : trained_) {
    for (const auto& [from, to] : ranges) lines += to > from ? to - from : 0;
  }
  for (const auto& [id, lease] : leases_) {
    if (lease.position > lease.partition.skip_lines) lines += lease.position - lease.partition.skip_lines;
  }
  return lines;
}

bool PartitionQueue::Finish(uint32_t worker, uint32_t partition_id, uint64_t end) {
  auto it = leases_.find(partition_id);
  if (it == leases_.end() || it->second.worker != worker) return false;
  trained_[partition_id].emplace_back(it->second.partition.skip_lines,
                                      std::max(end, it->second.position));
  leases_.erase(it);
  ++finished_;
  return true;
}

size_t PartitionQueue::Requeue(uint32_t worker) {
  size_t n = 0;
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.worker != worker) {
      ++it;
      continue;
    }
    Lease lease = it->second;
    if (lease.position > lease.partition.skip_lines) {
      trained_[lease.partition.id].emplace_back(lease.partition.skip_lines, lease.position);
    }
    lease.partition.skip_lines = lease.position;
    pending_.push_front(lease);
    it = leases_.erase(it);
    ++n;
  }
  return n;
}

uint32_t PartitionQueue::CurrentPass() const {
  uint32_t pass = passes_;
  for (const auto& [id, l] : leases_) pass = std::min(pass, l.pass);
  for (const auto& l : pending_) pass = std::min(pass, l.pass);
  return pass;
}

nlohmann::json PartitionQueue::ToJson() const {
  nlohmann::json pending = nlohmann::json::array();
  // Outstanding leases first: they resume where their workers got to.
  for (const auto& [id, l] : leases_) pending.push_back(LeaseJson(l, l.position));
  for (const auto& l : pending_) pending.push_back(LeaseJson(l, l.partition.skip_lines));
  nlohmann::json trained = nlohmann::json::object();
  for (const auto& [id, ranges] : trained_) {
    auto& out = trained[std::to_string(id)];
    for (const auto& [from, to] : ranges) out.push_back({from, to});
  }
  // Outstanding leases' progress counts as trained up to their position.
  for (const auto& [id, l] : leases_) {
    if (l.position > l.partition.skip_lines) {
      trained[std::to_string(id)].push_back({l.partition.skip_lines, l.position});
    }
  }
  return {{"total", total_}, {"finished", finished_}, {"passes", passes_},
          {"pending", pending}, {"trained", trained}};
}

StatusOr<PartitionQueue> PartitionQueue::FromJson(const nlohmann::json& j) {
  try {
    PartitionQueue q;
    q.total_ = j.at("total").get<size_t>();
    q.finished_ = j.at("finished").get<size_t>();
    q.passes_ = j.at("passes").get<uint32_t>();
    for (const auto& l : j.at("pending")) q.pending_.push_back(LeaseFromJson(l));
    for (const auto& [id, ranges] : j.at("trained").items()) {
      auto& out = q.trained_[static_cast<uint32_t>(std::stoul(id))];
      for (const auto& r : ranges) out.emplace_back(r.at(0).get<uint64_t>(), r.at(1).get<uint64_t>());
    }
    if (q.finished_ + q.pending_.size() != q.total_) {
      return InvalidArgument("partition state: " + std::to_string(q.finished_) + " finished + " +
                             std::to_string(q.pending_.size()) + " pending != " +
                             std::to_string(q.total_) + " in all");
    }
    return q;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("partition state: ") + e.what());
  }
}

}  // namespace embedps::scheduler
