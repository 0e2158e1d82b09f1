#include "datagen/zipf.h"

#include <algorithm>
#include <cmath>

#include <glog/logging.h>

namespace embedps::datagen {
namespace {

// log(1 + x) / x, tending to 1 at x = 0 without the 0/0.
double Log1pOverX(double x) {
  if (std::abs(x) > 1e-8) return std::log1p(x) / x;
  return 1 - x * (0.5 - x / 3);
}

// (e^x - 1) / x, tending to 1 at x = 0 without the 0/0.
double Expm1OverX(double x) {
  if (std::abs(x) > 1e-8) return std::expm1(x) / x;
  return 1 + x * (0.5 + x / 6);
}

}  // namespace

ZipfSampler::ZipfSampler(uint64_t n, double s) : n_(n), s_(s) {
  CHECK_GE(n, 1u) << "Zipf needs at least one rank";
  CHECK_GT(s, 0.0) << "Zipf exponent must be positive";
  // Rank k is accepted when u lies in the top h(k)-wide part of its cell
  // [H(k - 0.5), H(k + 0.5)]. The range starts at the bottom of rank 1's
  // accepted part, so no draw is wasted to the left of rank 1.
  h_integral_x1_ = H(1.5) - h(1.0);
  h_integral_n_ = H(static_cast<double>(n) + 0.5);
  // Largest distance below a rank at which the continuous density is still
  // guaranteed to dominate the discrete one, so no exact test is needed.
  squeeze_ = 2 - HInverse(H(2.5) - h(2.0));
}

double ZipfSampler::h(double x) const { return std::exp(-s_ * std::log(x)); }

double ZipfSampler::H(double x) const {
  const double log_x = std::log(x);
  return Expm1OverX((1 - s_) * log_x) * log_x;
}

double ZipfSampler::HInverse(double y) const {
  double t = y * (1 - s_);
  // Rounding can push t to -1 or below at the range's right end when s > 1
  // (where H approaches its limit); clamp so the log stays finite. The
  // result is then huge and TryDraw clamps it to rank n.
  t = std::max(t, -1.0 + 1e-15);
  return std::exp(Log1pOverX(t) * y);
}

bool ZipfSampler::TryDraw(double unit, uint64_t* k) const {
  // Uniform over [h_integral_x1_, h_integral_n_]; starting from the right end
  // keeps unit = 0 inside the range.
  const double u = h_integral_n_ + unit * (h_integral_x1_ - h_integral_n_);
  const double x = HInverse(u);
  double rounded = std::floor(x + 0.5);
  rounded = std::clamp(rounded, 1.0, static_cast<double>(n_));
  // Accept when x is close enough below k (the squeeze), or when u falls
  // inside the part of k's cell that the discrete mass h(k) covers.
  if (rounded - x <= squeeze_ || u >= H(rounded + 0.5) - h(rounded)) {
    *k = static_cast<uint64_t>(rounded);
    return true;
  }
  return false;
}

}  // namespace embedps::datagen
