// SPDX-License-Identifier: MIT
// The DFT form of the wide convolution: its transforms and the dispatch (see conv_wide_dft.h).
// No arch flags here; the kernels are in conv_dft_<isa>.cc.
#include "conv_wide_dft.h"

#include <algorithm>
#include <cstring>

#include "cpu_features.h"

namespace chaarfm {

#if CHAARFM_X86
void conv_wide_dft_avx512_f32(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1,
                              float* y);  // conv_dft_avx512.cc
void conv_wide_dft_avx2_f32(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1,
                            float* y);  // conv_dft_avx2.cc
#endif
#if CHAARFM_ARM64
void conv_wide_dft_neon_f32(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1,
                            float* y);  // conv_dft_neon.cc
#endif

namespace {

size_t RoundUp(size_t v, size_t to) { return (v + to - 1) / to * to; }

// sin and cos of theta in [0, pi/4] by their Taylor series to the 21st / 20th power (the next
// terms are below 1e-22): plain double operations in a fixed order (no FMA contraction in this
// unit: -ffp-contract=off), so every IEEE-754 machine gets the same bits.
void SinCosOctant(double theta, double* s, double* c) {
  const double t2 = theta * theta;
  double ts = 0.0, tc = 0.0;
  // Horner from the highest term: sin = t (1 - t2/(2*3) (1 - t2/(4*5) (...)))
  for (int n = 20; n >= 2; n -= 2) {
    ts = t2 / static_cast<double>(n * (n + 1)) * (1.0 - ts);
    tc = t2 / static_cast<double>((n - 1) * n) * (1.0 - tc);
  }
  *s = theta * (1.0 - ts);
  *c = 1.0 - tc;
}

// The most classes (a power of two dividing N) that still leave a class at least 12 pixels (three
// quarters of a 16-lane vector): MusiCNN's 59 pixels of 96 get 4 classes of 15, its 30 get 2.
size_t InverseClasses(size_t N, size_t ow) {
  size_t r = 1;
  while (N % (2 * r) == 0 && (ow + 2 * r - 1) / (2 * r) >= 12) r *= 2;
  return r;
}

}  // namespace

void SinCosTurn(size_t a, size_t n, double* s, double* c) {
  const double kQuarterPi = 0.78539816339744830962;  // pi/4, rounded to double
  a %= n;
  const size_t u = 8 * a;
  const size_t octant = u / n, r = u - octant * n;  // angle = (octant + r/n) pi/4
  double sa, ca;                                     // of the angle within its quadrant
  if (octant % 2 == 1 && r == 0) {  // exactly pi/4 into the quadrant: sin = cos, so mirrors stay exact
    sa = ca = 0.70710678118654752440;
  } else if (octant % 2 == 0) {
    SinCosOctant(kQuarterPi * static_cast<double>(r) / static_cast<double>(n), &sa, &ca);
  } else {  // pi/2 - the rest of the quadrant
    double s2, c2;
    SinCosOctant(kQuarterPi * static_cast<double>(n - r) / static_cast<double>(n), &s2, &c2);
    sa = c2;
    ca = s2;
  }
  switch (octant / 2) {
    case 0: *s = sa; *c = ca; break;
    case 1: *s = ca; *c = -sa; break;
    case 2: *s = -sa; *c = -ca; break;
    default: *s = -ca; *c = sa; break;
  }
}

std::shared_ptr<const WideDftKernel> PrepareWideDft(const float* w, size_t width, size_t kh, size_t kw,
                                                    size_t co) {
  auto k = std::make_shared<WideDftKernel>();
  const size_t N = width;
  k->source = w;
  k->width = width; k->kh = kh; k->kw = kw; k->co = co;
  k->ow = width - kw + 1;
  k->bins = N / 2 + 1;
  k->m = 2 * k->bins;
  k->m_pad = RoundUp(k->m, 16);
  k->co_pad = RoundUp(co, 16);
  // the twiddles exp(-2 pi i q / N) for q < N
  std::vector<double> cs(N), sn(N);
  for (size_t q = 0; q < N; ++q) SinCosTurn(q, N, &sn[q], &cs[q]);
  k->forward.assign(width * k->m_pad, 0.f);
  for (size_t n = 0; n < width; ++n)
    for (size_t b = 0; b < k->bins; ++b) {
      const size_t q = (b * n) % N;
      k->forward[n * k->m_pad + 2 * b] = static_cast<float>(cs[q]);
      k->forward[n * k->m_pad + 2 * b + 1] = static_cast<float>(-sn[q]);
    }
  k->weights.assign(kh * k->m * k->co_pad, 0.f);
  std::vector<double> re(co), im(co);
  for (size_t i = 0; i < kh; ++i)
    for (size_t b = 0; b < k->bins; ++b) {
      std::fill(re.begin(), re.end(), 0.0);
      std::fill(im.begin(), im.end(), 0.0);
      for (size_t j = 0; j < kw; ++j) {
        const size_t q = (b * j) % N;
        const float* wj = w + (i * kw + j) * co;
        for (size_t o = 0; o < co; ++o) {
          re[o] += static_cast<double>(wj[o]) * cs[q];
          im[o] -= static_cast<double>(wj[o]) * sn[q];
        }
      }
      float* dr = &k->weights[(i * k->m + 2 * b) * k->co_pad];
      float* di = dr + k->co_pad;
      for (size_t o = 0; o < co; ++o) {
        dr[o] = static_cast<float>(re[o]);
        di[o] = static_cast<float>(im[o]);
      }
    }
  // the residue classes of the inverse, and the radix-2 steps that make their spectra
  k->classes = InverseClasses(N, k->ow);
  std::vector<size_t> residue = {0};  // of each class, in the order the steps leave them
  size_t n = N, most = k->m;
  for (size_t stride = 1; stride < k->classes; stride *= 2, n /= 2) {
    WideDftSplit sp;
    sp.n_in = n;
    sp.bins_out = n / 4 + 1;
    for (size_t b = 0; b < sp.bins_out; ++b) {
      double sb, cb;
      SinCosTurn(b, n, &sb, &cb);
      sp.cos.push_back(static_cast<float>(cb));
      sp.sin.push_back(static_cast<float>(sb));
    }
    std::vector<size_t> next;
    for (size_t r : residue) { next.push_back(r); next.push_back(r + stride); }  // even, odd samples
    residue = next;
    most = std::max(most, residue.size() * 2 * sp.bins_out);
    k->splits.push_back(sp);
  }
  const size_t ns = N / k->classes, sub_bins = ns / 2 + 1;
  k->sub_m = 2 * sub_bins;
  k->sub_ow = (k->ow + k->classes - 1) / k->classes;
  k->sub_ow_pad = RoundUp(k->sub_ow, 64);
  k->scratch = most;
  // class pixel q = (1/N) sum_b g_b (Re D_b cos(2 pi b q / ns) - Im D_b sin(...)), g_b = 1 for the
  // bins that are their own mirror (0, and ns/2 for even ns), else 2
  k->inverse.assign(k->sub_m * k->sub_ow_pad, 0.f);
  for (size_t b = 0; b < sub_bins; ++b) {
    const bool self = b == 0 || 2 * b == ns;
    const double g = (self ? 1.0 : 2.0) / static_cast<double>(N);
    for (size_t q = 0; q < k->sub_ow; ++q) {
      double sq, cq;
      SinCosTurn((b * q) % ns, ns, &sq, &cq);
      k->inverse[2 * b * k->sub_ow_pad + q] = static_cast<float>(g * cq);
      k->inverse[(2 * b + 1) * k->sub_ow_pad + q] = static_cast<float>(-g * sq);
    }
  }
  k->valid.assign(k->classes * k->sub_ow_pad, 0u);
  for (size_t c = 0; c < k->classes; ++c)
    for (size_t q = 0; q < k->sub_ow; ++q)
      if (q * k->classes + residue[c] < k->ow) k->valid[c * k->sub_ow_pad + q] = ~0u;
  return k;
}

std::shared_ptr<const WideDftKernel> WideDftPlan::For(const float* w, size_t width, size_t kh, size_t kw,
                                                      size_t co) const {
  return Get([&](const WideDftKernel& k) { return k.source == w && k.width == width && k.kh == kh && k.kw == kw && k.co == co; },
             [&] { return PrepareWideDft(w, width, kh, kw, co); });
}

bool WideDftPays(size_t width, size_t kh, size_t kw) {
  if (kw == 0 || kw > width) return false;
  const size_t ow = width - kw + 1, bins = width / 2 + 1, r = InverseClasses(width, ow);
  size_t steps = 0;
  for (size_t c = 1; c < r; c *= 2) ++steps;
  // multiply-adds per output row and channel: stage A, the radix-2 steps, stage B
  const size_t direct = kh * kw * ow;
  const size_t dft = 4 * kh * bins + 5 * bins * steps + (width / r + 2) * r * ((ow + r - 1) / r);
  return 10 * dft <= 6 * direct;
}

ConvWideDftFn conv_wide_dft_variant_f32(const char* isa) {
#if CHAARFM_X86
  if (!std::strcmp(isa, "avx512")) return conv_wide_dft_avx512_f32;
  if (!std::strcmp(isa, "avx2")) return conv_wide_dft_avx2_f32;
#endif
#if CHAARFM_ARM64
  if (!std::strcmp(isa, "neon")) return conv_wide_dft_neon_f32;
#endif
  (void)isa;
  return nullptr;
}

ConvWideDftFn conv_wide_dft_best_f32() {
  const char* name = conv_wide_dft_variant_name();
  return std::strcmp(name, "none") ? conv_wide_dft_variant_f32(name) : nullptr;
}

const char* conv_wide_dft_variant_name() {
  const Isa isa = CpuIsa();
  if (isa == Isa::kAvx512 && conv_wide_dft_variant_f32("avx512")) return "avx512";
  if ((isa == Isa::kAvx512 || isa == Isa::kAvx2) && conv_wide_dft_variant_f32("avx2")) return "avx2";
  if (isa == Isa::kNeon && conv_wide_dft_variant_f32("neon")) return "neon";
  return "none";
}

}  // namespace chaarfm
