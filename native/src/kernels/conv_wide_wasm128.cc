// SPDX-License-Identifier: MIT
// SIMD128 variant of the wide convolution (see conv_wide_f32.h, wasm128_f32.h): vectorised over
// the output channels, 4 a vector; a block is 4 output pixels x 2 channel vectors, 8
// accumulators, and per tap it loads 2 weight vectors and broadcasts 4 inputs (a last group of
// 4 channels in blocks of one vector). A row's last pixel block is shifted left to end at the
// last pixel: the pixels it computes twice are computed the same way, so the max is unchanged.
// The last co % 4 channels run the generic loop. Each output is the generic kernel's sum in its
// order (v = v + x * w over i, then j), then bias, Relu, batchnorm and the running max, in
// registers. Pure: thread-safe.
#include <wasm_simd128.h>

#include <cfloat>

#include "conv_f32.h"
#include "conv_wide_f32.h"
#include "cpu_features.h"
#include "wasm128_f32.h"

namespace chaarfm {

namespace {

constexpr int kPixels = 4;

template <int V>
inline void Block(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co,
                  const ConvEpilogue& ep, size_t t, size_t f0, size_t o, v128_t* m) {
  constexpr int P = kPixels;
  v128_t acc[P][V];
CHAARFM_UNROLL
  for (int p = 0; p < P; ++p)
CHAARFM_UNROLL
    for (int v = 0; v < V; ++v) acc[p][v] = wasm_f32x4_splat(0.f);
  for (size_t i = 0; i < kh; ++i) {
    const float* row = x + (t + i) * width + f0;
    const float* wt = w + i * kw * co + o;
    for (size_t j = 0; j < kw; ++j, wt += co) {
      v128_t wv[V];
CHAARFM_UNROLL
      for (int v = 0; v < V; ++v) wv[v] = wasm_v128_load(wt + 4 * v);
CHAARFM_UNROLL
      for (int p = 0; p < P; ++p) {
        const v128_t xb = wasm_v128_load32_splat(row + p + j);
CHAARFM_UNROLL
        for (int v = 0; v < V; ++v) acc[p][v] = MulAddWasm(acc[p][v], xb, wv[v]);
      }
    }
  }
  const v128_t zero = wasm_f32x4_splat(0.f);
CHAARFM_UNROLL
  for (int v = 0; v < V; ++v) {
    const size_t c = o + 4 * v;
    const v128_t bias = ep.bias ? wasm_v128_load(ep.bias + c) : zero;
    const v128_t scale = ep.bn_scale ? wasm_v128_load(ep.bn_scale + c) : zero;
    const v128_t shift = ep.bn_scale ? wasm_v128_load(ep.bn_shift + c) : zero;
CHAARFM_UNROLL
    for (int p = 0; p < P; ++p) {
      v128_t a = acc[p][v];
      if (ep.bias) a = wasm_f32x4_add(a, bias);
      if (ep.relu) a = wasm_f32x4_pmax(zero, a);  // 0 < a ? a : 0, the generic a > 0 ? a : 0
      if (ep.bn_scale) a = wasm_f32x4_add(wasm_f32x4_mul(a, scale), shift);
      m[v] = wasm_f32x4_pmax(m[v], a);            // m < a ? a : m
    }
  }
}

template <int V>
void Channels(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
              size_t t0, size_t t1, size_t o, float* y) {
  const size_t ow = width - kw + 1;
  for (size_t t = t0; t < t1; ++t) {
    v128_t m[V];
    for (int v = 0; v < V; ++v) m[v] = wasm_f32x4_splat(-FLT_MAX);
    for (size_t f = 0;; f += kPixels) {
      const size_t f0 = f + kPixels <= ow ? f : ow - kPixels;
      Block<V>(x, width, w, kh, kw, co, ep, t, f0, o, m);
      if (f0 + kPixels >= ow) break;
    }
    for (int v = 0; v < V; ++v) wasm_v128_store(y + t * co + o + 4 * v, m[v]);
  }
}

void Kernel(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co, const ConvEpilogue& ep,
            size_t t0, size_t t1, float* y) {
  size_t o = 0;
  for (; o + 8 <= co; o += 8) Channels<2>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  for (; o + 4 <= co; o += 4) Channels<1>(x, width, w, kh, kw, co, ep, t0, t1, o, y);
  if (o < co) conv_wide_pool_generic_channels_f32(x, width, w, kh, kw, co, ep, t0, t1, o, y);  // the rest, generic
}

}  // namespace

ConvWideFn conv_wide_wasm128_f32(size_t width, size_t kw, size_t co) {
  if (co == 0 || kw == 0 || kw > width || width - kw + 1 < static_cast<size_t>(kPixels)) return nullptr;
  return Kernel;
}

}  // namespace chaarfm
