// Zipf sampler for the synthetic data generator: category popularity in click
// logs is close to a power law, and vocabularies reach millions of entries, so
// table-based samplers (O(n) memory and setup) are ruled out.
#pragma once

#include <cstdint>
#include <limits>

namespace embedps::datagen {

// Zipf(s) sampler over {1..n}: P(k) proportional to k^-s, for s > 0. O(1)
// memory and expected O(1) time per sample for any n, by rejection-inversion
// (Hoermann & Derflinger 1996): invert the integral of the continuous density
// x^-s, round to the nearest integer, and accept with a cheap test that is
// almost always decided without evaluating a power.
class ZipfSampler {
 public:
  // CHECK-fails unless n >= 1 and s > 0.
  ZipfSampler(uint64_t n, double s);

  // Draws one rank in [1, n]. Rng is a 64-bit uniform random bit generator
  // (e.g. std::mt19937_64); bits are turned into doubles here rather than with
  // std::uniform_real_distribution so samples are the same on every platform.
  template <class Rng>
  uint64_t operator()(Rng& rng) const {
    static_assert(Rng::min() == 0 && Rng::max() == std::numeric_limits<uint64_t>::max(),
                  "ZipfSampler needs a full-range 64-bit generator");
    while (true) {
      const double unit = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
      if (uint64_t k = 0; TryDraw(unit, &k)) return k;
    }
  }

  uint64_t n() const { return n_; }
  double s() const { return s_; }

 private:
  // One rejection-inversion attempt from a uniform in [0, 1); true and *k on
  // acceptance.
  bool TryDraw(double unit, uint64_t* k) const;
  // H(x): an antiderivative of h(x) = x^-s, (x^(1-s) - 1) / (1 - s), written so
  // that it stays accurate as s approaches 1 (where it becomes log x).
  double H(double x) const;
  double HInverse(double y) const;
  double h(double x) const;

  uint64_t n_;
  double s_;
  double h_integral_x1_;  // H(1.5) - h(1): the left end of the sampling range
  double h_integral_n_;   // H(n + 0.5): the right end
  double squeeze_;        // accept x without computing H when k - x <= squeeze_
};

}  // namespace embedps::datagen
