// The fast profile's pass over the bins of eq. 4.1 (light-mediator paper) as one loop per point: an XLA
// FFI handler for the CPU, built and loaded by zprime_jax/likelihood/native_pass.py (which documents it).
//
// Per point p (the leading dimensions of `signal`, flattened) and bin i, with mu = xs s + xb b:
//   out[p] = (sum n s^2/mu^2, sum n s b/mu^2, sum n b^2/mu^2, sum [(mu - n) + n ln(n/mu)], sum s)
//   feasible[p] = no bin with n > 0 has mu <= 0
// exactly the terms of poisson_fast._bin_sums_xla (its docstring), which is the reference: bins with
// n = 0 contribute mu to the fourth sum and 0 to the others; 1/mu is taken as 1 where mu <= 0. The
// fourth sum is computed only when the attribute with_chi2 is true (else 0). The logarithm is
// poisson_fast.log_positive's (2 atanh series of the mantissa) in arithmetic the compiler vectorises.
//
// Inputs: signal (P, B); b and n (B) or (P, B); xs, xb (P). float64 only.
#include <cstdint>
#include <cstring>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

inline uint64_t bits_of(double x) {
  uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

inline double double_of(uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// ln x of x > 0 (poisson_fast.log_positive): x = 2^k m, m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s) with
// s = (m - 1)/(m + 1) by its series to s^21. k + 1023 is the exponent field of x (1 / sqrt(1/2)), taken
// with unsigned shifts and converted through the 2^52 bit pattern (no 64-bit integer conversions, which
// AVX2 lacks). x below the smallest normal is taken as that; +inf gives +inf.
inline double log_positive(double x) {
  const double tiny = 2.2250738585072014e-308;
  const uint64_t one_bits = 0x3FF0000000000000ULL, sqrt_half_bits = 0x3FE6A09E667F3BCDULL;
  const double clamped = x > tiny ? x : tiny;
  const uint64_t bits = bits_of(clamped);
  const uint64_t biased_k = (bits + (one_bits - sqrt_half_bits)) >> 52;  // k + 1023
  const double m = double_of(bits - ((biased_k - 1023) << 52));
  const double k = (double_of(0x4330000000000000ULL | biased_k) - 4503599627370496.0) - 1023.0;
  const double s = (m - 1.0) / (m + 1.0);
  const double z = s * s;
  double series = 1.0 / 21.0;
  series = series * z + 1.0 / 19.0;
  series = series * z + 1.0 / 17.0;
  series = series * z + 1.0 / 15.0;
  series = series * z + 1.0 / 13.0;
  series = series * z + 1.0 / 11.0;
  series = series * z + 1.0 / 9.0;
  series = series * z + 1.0 / 7.0;
  series = series * z + 1.0 / 5.0;
  series = series * z + 1.0 / 3.0;
  const double value = k * 0.6931471805599453094 + 2.0 * s * (series * z + 1.0);
  return x == __builtin_inf() ? x : value;
}

template <bool kChi2>
void pass(const double* signal, const double* background, int64_t b_stride, const double* data, int64_t n_stride,
          const double* xs, const double* xb, int64_t points, int64_t bins, double* out, bool* feasible) {
  for (int64_t p = 0; p < points; ++p) {
    const double* s = signal + p * bins;
    const double* b = background + p * b_stride;
    const double* n = data + p * n_stride;
    const double a = xs[p], c = xb[p];
    double ss = 0.0, sb = 0.0, bb = 0.0, dev = 0.0, total = 0.0;
    int64_t bad = 0;
#pragma omp simd reduction(+ : ss, sb, bb, dev, total, bad)
    for (int64_t i = 0; i < bins; ++i) {
      const double si = s[i], bi = b[i], ni = n[i];
      const double mu = a * si + c * bi;
      const bool pos = ni > 0.0, ok = mu > 0.0;
      bad += pos & !ok;
      const double v = 1.0 / (ok ? mu : 1.0);
      const double rv = ni * v * v;
      ss += rv * si * si;
      sb += rv * si * bi;
      bb += rv * bi * bi;
      total += si;
      if (kChi2) dev += (mu - ni) + ni * log_positive(pos ? ni * v : 1.0);
    }
    double* o = out + 5 * p;
    o[0] = ss;
    o[1] = sb;
    o[2] = bb;
    o[3] = dev;
    o[4] = total;
    feasible[p] = bad == 0;
  }
}

ffi::Error PoissonPassImpl(ffi::Buffer<ffi::F64> signal, ffi::Buffer<ffi::F64> background,
                           ffi::Buffer<ffi::F64> data, ffi::Buffer<ffi::F64> xs, ffi::Buffer<ffi::F64> xb,
                           ffi::ResultBuffer<ffi::F64> out, ffi::ResultBuffer<ffi::PRED> feasible, bool with_chi2) {
  const int64_t points = feasible->element_count();
  const auto dims = signal.dimensions();
  const int64_t bins = dims.size() == 0 ? 0 : dims.back();
  const int64_t nb = background.element_count(), nn = data.element_count();
  if (signal.element_count() != points * bins || xs.element_count() != points || xb.element_count() != points ||
      (nb != bins && nb != points * bins) || (nn != bins && nn != points * bins) ||
      out->element_count() != 5 * points) {
    return ffi::Error::InvalidArgument("zprime_jax poisson_pass: operand shapes do not match");
  }
  const int64_t b_stride = nb == bins ? 0 : bins, n_stride = nn == bins ? 0 : bins;
  if (with_chi2) {
    pass<true>(signal.typed_data(), background.typed_data(), b_stride, data.typed_data(), n_stride, xs.typed_data(),
               xb.typed_data(), points, bins, out->typed_data(), feasible->typed_data());
  } else {
    pass<false>(signal.typed_data(), background.typed_data(), b_stride, data.typed_data(), n_stride, xs.typed_data(),
                xb.typed_data(), points, bins, out->typed_data(), feasible->typed_data());
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(ZprimeJaxPoissonPass, PoissonPassImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // signal
                                  .Arg<ffi::Buffer<ffi::F64>>()   // background
                                  .Arg<ffi::Buffer<ffi::F64>>()   // data
                                  .Arg<ffi::Buffer<ffi::F64>>()   // xs
                                  .Arg<ffi::Buffer<ffi::F64>>()   // xb
                                  .Ret<ffi::Buffer<ffi::F64>>()   // the five sums per point
                                  .Ret<ffi::Buffer<ffi::PRED>>()  // feasible per point
                                  .Attr<bool>("with_chi2"));
