// SPDX-License-Identifier: MIT
// AVX2+FMA variant of the wide convolution (see conv_wide_f32.h); built with -mavx2 -mfma and
// only called after the CPU probe. The AVX-512 kernel's scheme with 8-channel vectors and 16
// registers: a block is P = 6 output pixels x V = 2 channel vectors (12 accumulators, 2 weight
// vectors, one broadcast), the last vector masked (maskload/maskstore); a row's last pixel block
// is shifted left to end at the last pixel (pixels computed twice are computed alike, so the
// max is unchanged). The epilogue (bias, Relu, batchnorm) runs on the accumulators and folds
// them into a running max per channel. Each output element is its own FMA chain over the taps
// in increasing order (i, then j), as in the AVX-512 variant. Pure functions: thread-safe.
#include <immintrin.h>

#include <cfloat>

#include "conv_f32.h"
#include "conv_wide_f32.h"
#include "cpu_features.h"

namespace chaarfm {

namespace {

inline __m256i TailMask(size_t n) {
  alignas(32) static const int ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ones + 8 - n));
}

template <int P, int V>
inline void Block(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co,
                  size_t t, size_t f0, size_t o, __m256i tail, __m256* acc_out) {
  __m256 acc[P][V];
CHAARFM_UNROLL
  for (int p = 0; p < P; ++p)
CHAARFM_UNROLL
    for (int v = 0; v < V; ++v) acc[p][v] = _mm256_setzero_ps();
  for (size_t i = 0; i < kh; ++i) {
    const float* row = x + (t + i) * width + f0;
    const float* wi = w + i * kw * co + o;
    for (size_t j = 0; j < kw; ++j) {
      const float* wt = wi + j * co;
      __m256 wv[V];
CHAARFM_UNROLL
      for (int v = 0; v < V; ++v) wv[v] = v == V - 1 ? _mm256_maskload_ps(wt + 8 * v, tail) : _mm256_loadu_ps(wt + 8 * v);
CHAARFM_UNROLL
      for (int p = 0; p < P; ++p) {
        const __m256 xb = _mm256_broadcast_ss(row + p + j);
CHAARFM_UNROLL
        for (int v = 0; v < V; ++v) acc[p][v] = _mm256_fmadd_ps(xb, wv[v], acc[p][v]);
      }
    }
  }
CHAARFM_UNROLL
  for (int p = 0; p < P; ++p)
CHAARFM_UNROLL
    for (int v = 0; v < V; ++v) acc_out[p * V + v] = acc[p][v];
}

template <int P, int V>
void Channels(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
              size_t t0, size_t t1, size_t o, float* y) {
  const size_t ow = width - kw + 1;
  const size_t left = co - o;
  const size_t last = left >= 8 * V ? 8 : left - 8 * (V - 1);
  const __m256i tail = TailMask(last);
  const __m256 zero = _mm256_setzero_ps();
  __m256 bias[V], scale[V], shift[V];
  for (int v = 0; v < V; ++v) {
    const __m256i k = v == V - 1 ? tail : TailMask(8);
    const size_t c = o + 8 * v;
    bias[v] = ep.bias ? _mm256_maskload_ps(ep.bias + c, k) : zero;
    scale[v] = ep.bn_scale ? _mm256_maskload_ps(ep.bn_scale + c, k) : zero;
    shift[v] = ep.bn_scale ? _mm256_maskload_ps(ep.bn_shift + c, k) : zero;
  }
  for (size_t t = t0; t < t1; ++t) {
    __m256 m[V];
    for (int v = 0; v < V; ++v) m[v] = _mm256_set1_ps(-FLT_MAX);
    for (size_t f = 0;; f += P) {
      const size_t f0 = f + P <= ow ? f : ow - P;
      __m256 acc[P * V];
      Block<P, V>(x, width, w, kh, kw, co, t, f0, o, tail, acc);
CHAARFM_UNROLL
      for (int p = 0; p < P; ++p)
CHAARFM_UNROLL
        for (int v = 0; v < V; ++v) {
          __m256 a = acc[p * V + v];
          if (ep.bias) a = _mm256_add_ps(a, bias[v]);
          if (ep.relu) a = _mm256_max_ps(a, zero);
          if (ep.bn_scale) a = _mm256_add_ps(_mm256_mul_ps(a, scale[v]), shift[v]);
          m[v] = _mm256_max_ps(a, m[v]);
        }
      if (f0 + P >= ow) break;
    }
    for (int v = 0; v < V; ++v) {
      if (v == V - 1) _mm256_maskstore_ps(y + t * co + o + 8 * v, tail, m[v]);
      else _mm256_storeu_ps(y + t * co + o + 8 * v, m[v]);
    }
  }
}

constexpr size_t kMinPixels = 6;  // the widest block

void Kernel(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
            size_t t0, size_t t1, float* y) {
  size_t o = 0;
  for (; o + 16 <= co; o += 16) Channels<6, 2>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  // the last 1..15 channels
  if (o + 8 < co) Channels<6, 2>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  else if (o < co) Channels<6, 1>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
}

}  // namespace

ConvWideFn conv_wide_avx2_f32(size_t width, size_t kw, size_t co) {
  if (co == 0 || kw == 0 || kw > width || width - kw + 1 < kMinPixels) return nullptr;
  return Kernel;
}

}  // namespace chaarfm
