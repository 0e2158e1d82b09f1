// The row arena (stable rows, reuse of freed rows), fp16 conversion, and the
// admission sketch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "ps/store/admission_sketch.h"
#include "ps/store/half.h"
#include "ps/store/row_arena.h"

namespace embedps::ps {
namespace {

TEST(RowArenaTest, RowsAreStableAndReused) {
  RowArena arena(10);  // rounded to 12
  EXPECT_EQ(arena.row_bytes(), 12u);
  std::vector<uint32_t> rows;
  for (int i = 0; i < 10000; ++i) {
    rows.push_back(arena.Allocate());
    std::memcpy(arena.Row(rows.back()), &i, sizeof(i));
  }
  // Later allocations (new chunks) never move earlier rows.
  for (int i = 0; i < 10000; ++i) {
    int v;
    std::memcpy(&v, arena.Row(rows[i]), sizeof(v));
    ASSERT_EQ(v, i);
  }
  EXPECT_EQ(std::set<uint32_t>(rows.begin(), rows.end()).size(), rows.size());
  arena.Free(rows[5]);
  arena.Free(rows[7]);
  EXPECT_EQ(arena.live_rows(), 9998u);
  const uint32_t a = arena.Allocate(), b = arena.Allocate();
  EXPECT_EQ(std::set<uint32_t>({a, b}), std::set<uint32_t>({rows[5], rows[7]}));
}

TEST(RowArenaTest, ReservesInProportionToItsRows) {
  // A stripe of a small table must not reserve a whole 8 MiB slab (which
  // on huge pages costs a 2 MiB page fault on the first row written).
  RowArena arena(8);
  for (int i = 0; i < 10000; ++i) arena.Allocate();
  EXPECT_LE(arena.MemoryBytes(), 2 * 16384 * 8u) << "10,000 rows of 8 bytes";
  // A big one grows by slabs of at most about 8 MiB, never more than twice
  // what it holds.
  for (int i = 0; i < 3000000; ++i) arena.Allocate();
  EXPECT_LE(arena.MemoryBytes(), 3010000 * 8u + (size_t{8} << 20));
  EXPECT_GE(arena.MemoryBytes(), 3010000 * 8u);
}

TEST(HalfTest, ExactValuesRoundTrip) {
  for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 0.5f, 65504.0f, 6.103515625e-05f /* min normal */,
                  5.960464477539063e-08f /* min subnormal */, 1024.0f, 0.333251953125f}) {
    EXPECT_EQ(HalfToFloat(FloatToHalf(v)), v) << v;
  }
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(1e6f))));
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(NAN))));
}

TEST(HalfTest, RelativeErrorIsWithinHalfPrecision) {
  for (float v = 1e-4f; v < 6e4f; v *= 1.37f) {
    const float back = HalfToFloat(FloatToHalf(v));
    EXPECT_LE(std::fabs(back - v) / v, 1.0f / 2048.0f) << v;  // 2^-11
    EXPECT_EQ(HalfToFloat(FloatToHalf(-v)), -back);
  }
  // Round to nearest even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 1.0f / 2048)), 1.0f);
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);
}

TEST(AdmissionSketchTest, CountsUpAndNeverUnderestimates) {
  AdmissionSketch sketch(1 << 12);
  for (uint32_t i = 1; i <= 5; ++i) EXPECT_EQ(sketch.Increment(42), i);
  // Many other keys: key 42's count can only grow from collisions.
  for (uint64_t k = 1000; k < 3000; ++k) sketch.Increment(k);
  EXPECT_GE(sketch.Increment(42), 6u);
  // Most fresh keys see a clean first count.
  int exact = 0;
  for (uint64_t k = 100000; k < 100100; ++k) exact += sketch.Increment(k) == 1;
  EXPECT_GT(exact, 90);
}

TEST(AdmissionSketchTest, Saturates) {
  AdmissionSketch sketch(64);
  uint32_t last = 0;
  for (int i = 0; i < 400; ++i) last = sketch.Increment(7);
  EXPECT_EQ(last, 255u);
}

}  // namespace
}  // namespace embedps::ps
