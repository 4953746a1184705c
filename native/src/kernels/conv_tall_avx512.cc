// SPDX-License-Identifier: MIT
// AVX-512F variant of the tall convolution (see conv_tall_f32.h); built with -mavx512f -mfma
// and only called after the CPU probe. Vectorised over the width, up to 128 (8 vectors, the
// last one masked); several output channels at a time: 6 x 4 = 24 accumulators for MusiCNN's
// width 96. (A channel-vectorised, 6-row-blocked variant was tried and measured slower here:
// 56 vs 80 GFLOP/s.) Each element is an FMA chain over the taps in increasing order.
// Pure functions: thread-safe.
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
                  size_t t, size_t o, __mmask16 tail, float* y) {
  __m512 acc[OB][NV];
  CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b)
    CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) acc[b][v] = _mm512_setzero_ps();
  for (size_t k = 0; k < kh; ++k) {
    const float* row = xpad + (t + k) * width;
    __m512 x[NV];
    CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v)
      x[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(tail, row + 16 * v) : _mm512_loadu_ps(row + 16 * v);
    const float* wk = w + k * co + o;
    CHAARFM_UNROLL
    for (int b = 0; b < OB; ++b) {
      const __m512 wb = _mm512_set1_ps(wk[b]);
      CHAARFM_UNROLL
      for (int v = 0; v < NV; ++v) acc[b][v] = _mm512_fmadd_ps(x[v], wb, acc[b][v]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b) {
    __m512 m = _mm512_set1_ps(-FLT_MAX);
    CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) {
      __m512 a = acc[b][v];
      if (ep.bias) a = _mm512_add_ps(a, _mm512_set1_ps(ep.bias[o + b]));
      if (ep.relu) a = _mm512_max_ps(a, zero);
      if (ep.bn_scale)
        a = _mm512_add_ps(_mm512_mul_ps(a, _mm512_set1_ps(ep.bn_scale[o + b])), _mm512_set1_ps(ep.bn_shift[o + b]));
      m = v == NV - 1 ? _mm512_mask_max_ps(m, tail, a, m) : _mm512_max_ps(a, m);
    }
    y[t * co + o + b] = _mm512_reduce_max_ps(m);
  }
}

template <int NV>
void Kernel(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep, size_t t0,
            size_t t1, float* y) {
  const size_t rem = width - 16 * (NV - 1);
  const __mmask16 tail = static_cast<__mmask16>(rem >= 16 ? 0xFFFF : (1u << rem) - 1);
  constexpr int OB = NV <= 3 ? 8 : NV <= 4 ? 5 : NV <= 6 ? 4 : 3;
  for (size_t t = t0; t < t1; ++t) {
    size_t o = 0;
    for (; o + OB <= co; o += OB) Block<NV, OB>(xpad, width, w, kh, co, ep, t, o, tail, y);
    for (; o < co; ++o) Block<NV, 1>(xpad, width, w, kh, co, ep, t, o, tail, y);
  }
}

}  // namespace

ConvTallFn conv_tall_avx512_f32(size_t width, size_t co) {
  if (co == 0) return nullptr;
  switch ((width + 15) / 16) {
    case 1: return width ? Kernel<1> : nullptr;
    case 2: return Kernel<2>;
    case 3: return Kernel<3>;
    case 4: return Kernel<4>;
    case 5: return Kernel<5>;
    case 6: return Kernel<6>;
    case 7: return Kernel<7>;
    case 8: return Kernel<8>;
    default: return nullptr;
  }
}

}  // namespace chaarfm
