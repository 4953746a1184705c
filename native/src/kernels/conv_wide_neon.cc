// SPDX-License-Identifier: MIT
// NEON (arm64 AdvSIMD) variant of the wide convolution (see conv_wide_f32.h); arm64 only. The
// AVX-512 kernel's scheme with 4-channel vectors and 32 registers: a block is P = 6 output
// pixels x V = 4 channel vectors (24 accumulators, 4 weight vectors, one broadcast); a last
// vector of fewer than 4 channels is loaded through a zero-padded copy and stored partially;
// a row's last pixel block is shifted left to end at the last pixel (pixels computed twice are
// computed alike, so the max is unchanged). Epilogue and running max as in the other variants;
// each output element is its own fused multiply-add chain over the taps in increasing order.
// Pure functions: thread-safe.
#include <arm_neon.h>

#include <cfloat>
#include <cstring>

#include "conv_f32.h"
#include "conv_wide_f32.h"
#include "cpu_features.h"

namespace chaarfm {

namespace {

inline float32x4_t LoadN(const float* p, size_t n) {
  if (n == 4) return vld1q_f32(p);
  float t[4] = {0.f, 0.f, 0.f, 0.f};
  std::memcpy(t, p, n * sizeof(float));
  return vld1q_f32(t);
}
inline void StoreN(float* p, float32x4_t v, size_t n) {
  if (n == 4) return vst1q_f32(p, v);
  float t[4];
  vst1q_f32(t, v);
  std::memcpy(p, t, n * sizeof(float));
}

template <int P, int V>
void Channels(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
              size_t t0, size_t t1, size_t o, float* y) {
  const size_t ow = width - kw + 1;
  const size_t left = co - o;
  const size_t last = left >= 4 * V ? 4 : left - 4 * (V - 1);
  const float32x4_t zero = vdupq_n_f32(0.f);
  float32x4_t bias[V], scale[V], shift[V];
  for (int v = 0; v < V; ++v) {
    const size_t n = v == V - 1 ? last : 4, c = o + 4 * v;
    bias[v] = ep.bias ? LoadN(ep.bias + c, n) : zero;
    scale[v] = ep.bn_scale ? LoadN(ep.bn_scale + c, n) : zero;
    shift[v] = ep.bn_scale ? LoadN(ep.bn_shift + c, n) : zero;
  }
  for (size_t t = t0; t < t1; ++t) {
    float32x4_t m[V];
    for (int v = 0; v < V; ++v) m[v] = vdupq_n_f32(-FLT_MAX);
    for (size_t f = 0;; f += P) {
      const size_t f0 = f + P <= ow ? f : ow - P;
      float32x4_t acc[P][V];
CHAARFM_UNROLL
      for (int p = 0; p < P; ++p)
CHAARFM_UNROLL
        for (int v = 0; v < V; ++v) acc[p][v] = zero;
      for (size_t i = 0; i < kh; ++i) {
        const float* row = x + (t + i) * width + f0;
        const float* wi = w + i * kw * co + o;
        for (size_t j = 0; j < kw; ++j) {
          const float* wt = wi + j * co;
          float32x4_t wv[V];
CHAARFM_UNROLL
          for (int v = 0; v < V; ++v) wv[v] = v == V - 1 ? LoadN(wt + 4 * v, last) : vld1q_f32(wt + 4 * v);
CHAARFM_UNROLL
          for (int p = 0; p < P; ++p) {
            const float32x4_t xb = vdupq_n_f32(row[p + j]);
CHAARFM_UNROLL
            for (int v = 0; v < V; ++v) acc[p][v] = vfmaq_f32(acc[p][v], xb, wv[v]);
          }
        }
      }
CHAARFM_UNROLL
      for (int p = 0; p < P; ++p)
CHAARFM_UNROLL
        for (int v = 0; v < V; ++v) {
          float32x4_t a = acc[p][v];
          if (ep.bias) a = vaddq_f32(a, bias[v]);
          if (ep.relu) a = vmaxq_f32(a, zero);
          if (ep.bn_scale) a = vaddq_f32(vmulq_f32(a, scale[v]), shift[v]);
          m[v] = vmaxq_f32(a, m[v]);
        }
      if (f0 + P >= ow) break;
    }
    for (int v = 0; v < V; ++v) StoreN(y + t * co + o + 4 * v, m[v], v == V - 1 ? last : 4);
  }
}

constexpr size_t kMinPixels = 6;  // the widest block

void Kernel(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
            size_t t0, size_t t1, float* y) {
  size_t o = 0;
  for (; o + 16 <= co; o += 16) Channels<6, 4>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  // the last 1..15 channels
  const size_t left = co - o;
  if (left > 12) Channels<6, 4>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  else if (left > 8) Channels<6, 3>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  else if (left > 4) Channels<6, 2>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  else if (left > 0) Channels<6, 1>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
}

}  // namespace

ConvWideFn conv_wide_neon_f32(size_t width, size_t kw, size_t co) {
  if (co == 0 || kw == 0 || kw > width || width - kw + 1 < kMinPixels) return nullptr;
  return Kernel;
}

}  // namespace chaarfm
