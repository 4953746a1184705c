// SPDX-License-Identifier: MIT
// NEON (arm64 AdvSIMD) variant of the tall convolution (see conv_tall_f32.h); arm64 only.
// Widths that are a multiple of 4 in {24, 32, 40, 48, 64, 96} (NV = 6..24 vectors, one or two
// output channels at a time: at most 24 accumulators of the 32 registers). Each output element
// is one fused multiply-add chain over the taps in increasing order (as the AVX2/AVX-512
// variants). Pure: thread-safe.
#include <arm_neon.h>

#include <cfloat>

#include "conv_f32.h"
#include "conv_tall_f32.h"
#include "cpu_features.h"

namespace chaarfm {

namespace {

template <int NV, int OB>
inline void Block(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep,
                  size_t t, size_t o, float* y) {
  float32x4_t acc[OB][NV];
  CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b)
    CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) acc[b][v] = vdupq_n_f32(0.f);
  for (size_t k = 0; k < kh; ++k) {
    const float* row = xpad + (t + k) * width;
    const float* wk = w + k * co + o;
    CHAARFM_UNROLL
    for (int b = 0; b < OB; ++b) {
      const float32x4_t wb = vdupq_n_f32(wk[b]);
      CHAARFM_UNROLL
      for (int v = 0; v < NV; ++v) acc[b][v] = vfmaq_f32(acc[b][v], vld1q_f32(row + 4 * v), wb);
    }
  }
  const float32x4_t zero = vdupq_n_f32(0.f);
  CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b) {
    float32x4_t m = vdupq_n_f32(-FLT_MAX);
    CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) {
      float32x4_t a = acc[b][v];
      if (ep.bias) a = vaddq_f32(a, vdupq_n_f32(ep.bias[o + b]));
      if (ep.relu) a = vmaxq_f32(a, zero);
      if (ep.bn_scale) a = vaddq_f32(vmulq_f32(a, vdupq_n_f32(ep.bn_scale[o + b])), vdupq_n_f32(ep.bn_shift[o + b]));
      m = vmaxq_f32(a, m);
    }
    y[t * co + o + b] = vmaxvq_f32(m);
  }
}

template <int NV>
void Kernel(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep, size_t t0,
            size_t t1, float* y) {
  constexpr int OB = NV <= 12 ? 2 : 1;
  for (size_t t = t0; t < t1; ++t) {
    size_t o = 0;
    for (; o + OB <= co; o += OB) Block<NV, OB>(xpad, width, w, kh, co, ep, t, o, y);
    for (; o < co; ++o) Block<NV, 1>(xpad, width, w, kh, co, ep, t, o, y);
  }
}

}  // namespace

ConvTallFn conv_tall_neon_f32(size_t width, size_t co) {
  (void)co;
  if (width == 0 || width % 4 != 0) return nullptr;
  switch (width / 4) {
    case 6: return Kernel<6>;
    case 8: return Kernel<8>;
    case 10: return Kernel<10>;
    case 12: return Kernel<12>;
    case 16: return Kernel<16>;
    case 24: return Kernel<24>;
    default: return nullptr;
  }
}

}  // namespace chaarfm
