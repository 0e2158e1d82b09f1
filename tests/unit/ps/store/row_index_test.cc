// The open-addressing index against std::unordered_map under random
// inserts and erases (backward-shift deletion must never lose a key).
#include "ps/store/row_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <unordered_map>

namespace embedps::ps {
namespace {

TEST(RowIndexTest, MatchesReferenceUnderChurn) {
  RowIndex index;
  std::unordered_map<uint64_t, uint32_t> ref;
  std::mt19937_64 rng(1);
  // A small key space forces long probe runs and many erase shifts.
  for (int op = 0; op < 300000; ++op) {
    const uint64_t key = rng() % 5000 * 0x9e3779b97f4a7c15ULL;  // includes 0
    const int what = static_cast<int>(rng() % 3);
    if (what < 2) {
      if (ref.count(key) == 0) {
        const uint32_t row = static_cast<uint32_t>(op);
        index.Insert(key, row);
        ref[key] = row;
      }
    } else {
      const uint32_t got = index.Erase(key);
      auto it = ref.find(key);
      ASSERT_EQ(got, it == ref.end() ? RowIndex::kNoRow : it->second);
      if (it != ref.end()) ref.erase(it);
    }
    if (op % 1000 == 0) {
      ASSERT_EQ(index.size(), ref.size());
      for (const auto& [k, r] : ref) ASSERT_EQ(index.Find(k), r);
    }
  }
  size_t seen = 0;
  index.ForEach([&](uint64_t k, uint32_t r) {
    ++seen;
    EXPECT_EQ(ref.at(k), r);
  });
  EXPECT_EQ(seen, ref.size());
}

TEST(RowIndexTest, GrowsAndKeepsLoadUnderThreeQuarters) {
  RowIndex index;
  for (uint64_t k = 0; k < 100000; ++k) index.Insert(k, static_cast<uint32_t>(k));
  EXPECT_EQ(index.size(), 100000u);
  EXPECT_LE(index.size() * 4, index.capacity() * 3);
  for (uint64_t k = 0; k < 100000; ++k) ASSERT_EQ(index.Find(k), k);
  EXPECT_EQ(index.Find(100000), RowIndex::kNoRow);
  EXPECT_EQ(index.MemoryBytes(), index.capacity() * 12);
}

TEST(RowIndexTest, ExtremeKeys) {
  RowIndex index;
  index.Insert(0, 1);
  index.Insert(~uint64_t{0}, 2);
  EXPECT_EQ(index.Find(0), 1u);
  EXPECT_EQ(index.Find(~uint64_t{0}), 2u);
  EXPECT_EQ(index.Erase(0), 1u);
  EXPECT_EQ(index.Find(0), RowIndex::kNoRow);
  EXPECT_EQ(index.Find(~uint64_t{0}), 2u);
}

// A checkpoint lists an index's keys in slot order, and a restore inserts
// them in that order into a fresh, smaller index that grows. With one hash
// for every capacity the keys piled into one probe run while the index was
// smaller than the writer's (a restore 40 times slower per stripe than into
// an index sized first); probes must stay short all the way.
TEST(RowIndexTest, RefillInSlotOrderKeepsProbesShort) {
  RowIndex big;
  std::mt19937_64 rng(7);
  for (uint32_t k = 0; k < 150000; ++k) big.Insert(rng(), k);
  RowIndex grown;
  RowIndex reserved;
  reserved.Reserve(big.size());
  const size_t reserved_capacity = reserved.capacity();
  double worst = 0;
  size_t inserted = 0;
  big.ForEach([&](uint64_t key, uint32_t row) {
    grown.Insert(key, row);
    reserved.Insert(key, row);
    if (++inserted % 10000 == 0) worst = std::max(worst, grown.MeanProbeLength());
  });
  ASSERT_EQ(grown.size(), big.size());
  EXPECT_LT(worst, 3.0) << "a probe run built up while the index grew";
  EXPECT_LT(reserved.MeanProbeLength(), 3.0);
  EXPECT_EQ(reserved.capacity(), reserved_capacity) << "Reserve must leave no growth";
  big.ForEach([&](uint64_t key, uint32_t row) {
    ASSERT_EQ(grown.Find(key), row);
    ASSERT_EQ(reserved.Find(key), row);
  });
}

TEST(RowIndexTest, ReserveKeepsKeysAndLoad) {
  RowIndex index;
  for (uint64_t k = 0; k < 1000; ++k) index.Insert(k * 7919, static_cast<uint32_t>(k));
  index.Reserve(100000);
  EXPECT_GE(index.capacity() * 3, size_t{100000} * 4);
  for (uint64_t k = 0; k < 1000; ++k) ASSERT_EQ(index.Find(k * 7919), k);
  const size_t capacity = index.capacity();
  index.Reserve(10);  // never shrinks
  EXPECT_EQ(index.capacity(), capacity);
}

}  // namespace
}  // namespace embedps::ps
