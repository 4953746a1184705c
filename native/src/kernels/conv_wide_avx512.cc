// SPDX-License-Identifier: MIT
// AVX-512F variant of the wide convolution (see conv_wide_f32.h); built with -mavx512f -mfma
// and only called after the CPU probe. Vectorised over the output channels, 16 a vector, the
// last one masked; a block is P output pixels x V channel vectors of accumulators, and per tap
// it loads V weight vectors and broadcasts P inputs. 10 x 2 (32 channels: their weights for a
// 7x38 kernel, 34 KB, stay in L1 while the pixel blocks of a row reuse them) measured best on
// both MusiCNN timbral shapes among 12x2, 10x2, 8x3, 6x4 and 14x1 (bench/kernels/kernel_bench.cc);
// 12 x 1 for a last group of at most 16 channels. A row's last pixel block is shifted left to end at the last pixel:
// the pixels it computes twice are computed the same way, so the max is unchanged.
// The epilogue (bias, Relu, batchnorm) runs on the accumulators and folds them into a running
// max per channel, so un-pooled values never leave the registers.
// Pure functions: thread-safe.
#include <immintrin.h>

#include <cfloat>

#include "conv_f32.h"
#include "cpu_features.h"
#include "conv_wide_f32.h"

namespace chaarfm {

namespace {

// One block: pixels [f0, f0 + P) of row t, channels [o, o + 16 V), the last vector masked by
// `tail`; folds the results into m[V]. The unroll pragmas keep acc in registers (see
// conv_tall_avx512.cc).
template <int P, int V>
inline void Block(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co,
                  const ConvEpilogue& ep, size_t t, size_t f0, size_t o, __mmask16 tail, __m512* m) {
  __m512 acc[P][V];
CHAARFM_UNROLL
  for (int p = 0; p < P; ++p)
CHAARFM_UNROLL
    for (int v = 0; v < V; ++v) acc[p][v] = _mm512_setzero_ps();
  for (size_t i = 0; i < kh; ++i) {
    const float* row = x + (t + i) * width + f0;
    const float* wi = w + i * kw * co + o;
    for (size_t j = 0; j < kw; ++j) {
      const float* wt = wi + j * co;
      __m512 wv[V];
CHAARFM_UNROLL
      for (int v = 0; v < V; ++v)
        wv[v] = v == V - 1 ? _mm512_maskz_loadu_ps(tail, wt + 16 * v) : _mm512_loadu_ps(wt + 16 * v);
CHAARFM_UNROLL
      for (int p = 0; p < P; ++p) {
        const __m512 xb = _mm512_set1_ps(row[p + j]);
CHAARFM_UNROLL
        for (int v = 0; v < V; ++v) acc[p][v] = _mm512_fmadd_ps(xb, wv[v], acc[p][v]);
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
CHAARFM_UNROLL
  for (int v = 0; v < V; ++v) {
    const __mmask16 k = v == V - 1 ? tail : static_cast<__mmask16>(0xFFFF);
    const size_t c = o + 16 * v;
    const __m512 bias = ep.bias ? _mm512_maskz_loadu_ps(k, ep.bias + c) : zero;
    const __m512 scale = ep.bn_scale ? _mm512_maskz_loadu_ps(k, ep.bn_scale + c) : zero;
    const __m512 shift = ep.bn_scale ? _mm512_maskz_loadu_ps(k, ep.bn_shift + c) : zero;
CHAARFM_UNROLL
    for (int p = 0; p < P; ++p) {
      __m512 a = acc[p][v];
      if (ep.bias) a = _mm512_add_ps(a, bias);
      if (ep.relu) a = _mm512_max_ps(a, zero);
      if (ep.bn_scale) a = _mm512_add_ps(_mm512_mul_ps(a, scale), shift);
      m[v] = _mm512_max_ps(a, m[v]);
    }
  }
}

// Every pixel block of rows [t0, t1) for the channels [o, o + 16 V).
template <int P, int V>
void Channels(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
              size_t t0, size_t t1, size_t o, float* y) {
  const size_t ow = width - kw + 1;
  const size_t left = co - o;
  const __mmask16 tail = static_cast<__mmask16>(left >= 16 * V ? 0xFFFF : (1u << (left - 16 * (V - 1))) - 1);
  for (size_t t = t0; t < t1; ++t) {
    __m512 m[V];
    for (int v = 0; v < V; ++v) m[v] = _mm512_set1_ps(-FLT_MAX);
    for (size_t f = 0;; f += P) {
      const size_t f0 = f + P <= ow ? f : ow - P;
      Block<P, V>(x, width, w, kh, kw, co, ep, t, f0, o, tail, m);
      if (f0 + P >= ow) break;
    }
    for (int v = 0; v < V; ++v) {
      const __mmask16 k = v == V - 1 ? tail : static_cast<__mmask16>(0xFFFF);
      _mm512_mask_storeu_ps(y + t * co + o + 16 * v, k, m[v]);
    }
  }
}

constexpr size_t kMinPixels = 12;  // the widest block

void Kernel(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
            size_t t0, size_t t1, float* y) {
  size_t o = 0;
  for (; o + 32 <= co; o += 32) Channels<10, 2>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  // the last 1..31 channels
  if (o + 16 < co) Channels<10, 2>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  else if (o < co) Channels<12, 1>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
}

}  // namespace

ConvWideFn conv_wide_avx512_f32(size_t width, size_t kw, size_t co) {
  if (co == 0 || kw == 0 || kw > width || width - kw + 1 < kMinPixels) return nullptr;
  return Kernel;
}

}  // namespace chaarfm
