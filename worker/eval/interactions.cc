#include "worker/eval/interactions.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace embedps::worker {

void Interactions::Add(uint64_t user, uint64_t item) {
  by_user_[user].push_back(item);
  items_.push_back(item);
}

void Interactions::Finish() {
  auto sort_unique = [](std::vector<uint64_t>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  for (auto& [user, items] : by_user_) sort_unique(items);
  sort_unique(items_);
}

const std::vector<uint64_t>* Interactions::ItemsOf(uint64_t user) const {
  auto it = by_user_.find(user);
  return it == by_user_.end() ? nullptr : &it->second;
}

bool Interactions::Has(uint64_t user, uint64_t item) const {
  const auto* items = ItemsOf(user);
  return items != nullptr && std::binary_search(items->begin(), items->end(), item);
}

uint64_t Interactions::size() const {
  uint64_t n = 0;
  for (const auto& [user, items] : by_user_) n += items.size();
  return n;
}

StatusOr<Interactions> CollectInteractions(const std::string& files, std::optional<data::Format> format,
                                           const ScanOptions& options) {
  Interactions out;
  bool any = false;
  RETURN_IF_ERROR(ScanExamples(files, format, options, [&](std::vector<data::Example>& batch) {
    for (const auto& ex : batch) {
      // Only rating formats set user and item ids.
      if (ex.user == 0 && ex.item == 0) continue;
      out.Add(ex.user, ex.item);
      any = true;
    }
    return Status::OK();
  }));
  if (!any) return InvalidArgument(files + " holds no (user, item) ratings");
  out.Finish();
  return out;
}

Status WriteInteractionsFile(const std::string& path, const Interactions& interactions) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    for (const auto& [user, items] : interactions.users()) {
      for (uint64_t item : items) out << user << '\t' << item << '\n';
    }
    if (!out.flush()) return Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unavailable("cannot rename " + tmp + ": " + ec.message());
  return Status::OK();
}

StatusOr<Interactions> ReadInteractionsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  Interactions out;
  uint64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    unsigned long long user = 0, item = 0;
    char extra = 0;
    if (std::sscanf(line.c_str(), "%llu\t%llu%c", &user, &item, &extra) != 2) {
      return DataLoss(path + ":" + std::to_string(line_no) + ": expected 'user<TAB>item'");
    }
    out.Add(user, item);
  }
  out.Finish();
  return out;
}

}  // namespace embedps::worker
