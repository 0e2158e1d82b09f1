#include "scheduler/job_history.h"

namespace embedps::scheduler {

void JobHistory::AddEvent(double t, double unix_time, const std::string& kind, const std::string& text) {
  events_.push_back({{"t", t}, {"time_unix", unix_time}, {"kind", kind}, {"text", text}});
  if (events_.size() > kMaxEvents) events_.pop_front();
}

void JobHistory::StartTraining(Clock::time_point start, const wire::Progress& total) {
  train_start_ = start;
  // Rates start from `total` at this instant, so the first sample has one,
  // and a resumed job's first loss is not averaged over the rows before it.
  rows_meter_.Update(total.rows, start);
  last_sample_ = total;
  next_sample_ = start + interval_;
}

bool JobHistory::Sample(Clock::time_point now, const wire::Progress& total, bool force) {
  if (!force && now < next_sample_) return false;
  recent_rows_per_sec_ = rows_meter_.Update(total.rows, now);
  const uint64_t rows = total.rows - last_sample_.rows;
  recent_loss_ = rows > 0 ? (total.loss_sum - last_sample_.loss_sum) / rows : -1;
  last_sample_ = total;
  samples_.push_back(Point{std::chrono::duration<double>(now - train_start_).count(), total.rows,
                           recent_rows_per_sec_, recent_loss_});
  if (samples_.size() >= kMaxSamples) {
    std::vector<Point> thinned;
    for (size_t i = 0; i < samples_.size(); i += 2) thinned.push_back(samples_[i]);
    samples_ = std::move(thinned);
    interval_ *= 2;
  }
  next_sample_ = now + interval_;
  return true;
}

nlohmann::json JobHistory::EventsJson() const {
  return nlohmann::json(std::vector<nlohmann::json>(events_.begin(), events_.end()));
}

nlohmann::json JobHistory::SamplesJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Point& s : samples_) {
    out.push_back({{"t", s.t}, {"rows", s.rows}, {"rows_per_sec", s.rows_per_sec},
                   {"loss", s.loss >= 0 ? nlohmann::json(s.loss) : nlohmann::json()}});
  }
  return out;
}

}  // namespace embedps::scheduler
