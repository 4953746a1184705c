// SPDX-License-Identifier: MIT
// AVX2+FMA variant of the tall convolution (see conv_tall_f32.h); built with -mavx2 -mfma and
// only called after the CPU probe. Widths that are a multiple of 8, up to 96 (12 vectors,
// one output channel at a time: 12 accumulators of the 16 registers). Pure: thread-safe.
#include <immintrin.h>

#include <cfloat>

#include "conv_f32.h"
#include "cpu_features.h"
#include "conv_tall_f32.h"

namespace chaarfm {

namespace {

// The unroll pragmas in Block keep the accumulators in registers: without them GCC 12 kept the
// arrays on the stack and stored every accumulator on every tap (measured on the AVX-512 dev VM:
// the temporal layers went from ~62 to ~116 GFLOP/s; results unchanged, same FMA order).
template <int NV, int OB>
inline void Block(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep,
                  size_t t, size_t o, float* y) {
  __m256 acc[OB][NV];
  CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b)
    CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) acc[b][v] = _mm256_setzero_ps();
  for (size_t k = 0; k < kh; ++k) {
    const float* row = xpad + (t + k) * width;
    const float* wk = w + k * co + o;
    CHAARFM_UNROLL
    for (int b = 0; b < OB; ++b) {
      const __m256 wb = _mm256_set1_ps(wk[b]);
      CHAARFM_UNROLL
      for (int v = 0; v < NV; ++v) acc[b][v] = _mm256_fmadd_ps(_mm256_loadu_ps(row + 8 * v), wb, acc[b][v]);
    }
  }
  const __m256 zero = _mm256_setzero_ps();
  CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b) {
    __m256 m = _mm256_set1_ps(-FLT_MAX);
    CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) {
      __m256 a = acc[b][v];
      if (ep.bias) a = _mm256_add_ps(a, _mm256_set1_ps(ep.bias[o + b]));
      if (ep.relu) a = _mm256_max_ps(a, zero);
      if (ep.bn_scale)
        a = _mm256_add_ps(_mm256_mul_ps(a, _mm256_set1_ps(ep.bn_scale[o + b])), _mm256_set1_ps(ep.bn_shift[o + b]));
      m = _mm256_max_ps(a, m);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    float r = lanes[0];
    for (int i = 1; i < 8; ++i) r = lanes[i] > r ? lanes[i] : r;
    y[t * co + o + b] = r;
  }
}

template <int NV>
void Kernel(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep, size_t t0,
            size_t t1, float* y) {
  constexpr int OB = NV <= 6 ? 2 : 1;
  for (size_t t = t0; t < t1; ++t) {
    size_t o = 0;
    for (; o + OB <= co; o += OB) Block<NV, OB>(xpad, width, w, kh, co, ep, t, o, y);
    for (; o < co; ++o) Block<NV, 1>(xpad, width, w, kh, co, ep, t, o, y);
  }
}

}  // namespace

ConvTallFn conv_tall_avx2_f32(size_t width, size_t co) {
  (void)co;
  if (width == 0 || width % 8 != 0) return nullptr;
  switch (width / 8) {
    case 4: return Kernel<4>;
    case 6: return Kernel<6>;
    case 8: return Kernel<8>;
    case 12: return Kernel<12>;
    default: return nullptr;
  }
}

}  // namespace chaarfm
