// SPDX-License-Identifier: MIT
// SIMD128 variant of the tall convolution (see conv_tall_f32.h, wasm128_f32.h): vectorised over
// the width, 4 pixels a vector; a block is 2 output channels x 4 vectors (16 pixels), 8
// accumulators, and per tap it loads 4 input vectors and broadcasts 2 weights. Widths that are
// a multiple of 4 (the last 1..3 vectors of a row in blocks of one vector). The epilogue and
// the running max over the width stay in registers; the generic kernel's operations in its
// order (acc = acc + x * w over the taps, then bias, Relu, batchnorm, max). Pure: thread-safe.
#include <wasm_simd128.h>

#include <cfloat>

#include "conv_f32.h"
#include "cpu_features.h"
#include "wasm128_f32.h"

namespace chaarfm {

namespace {

// Pixels [f, f + 4 NV) of output row t, channels [o, o + OB): folds them into m[OB].
template <int NV, int OB>
inline void Block(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep,
                  size_t t, size_t f, size_t o, v128_t* m) {
  v128_t acc[OB][NV];
CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b)
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) acc[b][v] = wasm_f32x4_splat(0.f);
  const float* row = xpad + t * width + f;
  const float* wk = w + o;
  for (size_t k = 0; k < kh; ++k, row += width, wk += co) {
    v128_t xv[NV];
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) xv[v] = wasm_v128_load(row + 4 * v);
CHAARFM_UNROLL
    for (int b = 0; b < OB; ++b) {
      const v128_t wb = wasm_v128_load32_splat(wk + b);
CHAARFM_UNROLL
      for (int v = 0; v < NV; ++v) acc[b][v] = MulAddWasm(acc[b][v], xv[v], wb);
    }
  }
  const v128_t zero = wasm_f32x4_splat(0.f);
CHAARFM_UNROLL
  for (int b = 0; b < OB; ++b) {
    const v128_t bias = wasm_f32x4_splat(ep.bias ? ep.bias[o + b] : 0.f);
    const v128_t scale = wasm_f32x4_splat(ep.bn_scale ? ep.bn_scale[o + b] : 0.f);
    const v128_t shift = wasm_f32x4_splat(ep.bn_scale ? ep.bn_shift[o + b] : 0.f);
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) {
      v128_t a = acc[b][v];
      if (ep.bias) a = wasm_f32x4_add(a, bias);
      if (ep.relu) a = wasm_f32x4_pmax(zero, a);  // 0 < a ? a : 0, the generic a > 0 ? a : 0
      if (ep.bn_scale) a = wasm_f32x4_add(wasm_f32x4_mul(a, scale), shift);
      m[b] = wasm_f32x4_pmax(m[b], a);            // m < a ? a : m
    }
  }
}

template <int OB>
inline void Channels(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep,
                     size_t t, size_t o, float* y) {
  v128_t m[OB];
  for (int b = 0; b < OB; ++b) m[b] = wasm_f32x4_splat(-FLT_MAX);
  size_t f = 0;
  for (; f + 16 <= width; f += 16) Block<4, OB>(xpad, width, w, kh, co, ep, t, f, o, m);
  for (; f < width; f += 4) Block<1, OB>(xpad, width, w, kh, co, ep, t, f, o, m);
  for (int b = 0; b < OB; ++b) {
    float r = wasm_f32x4_extract_lane(m[b], 0);
    const float l1 = wasm_f32x4_extract_lane(m[b], 1), l2 = wasm_f32x4_extract_lane(m[b], 2),
                l3 = wasm_f32x4_extract_lane(m[b], 3);
    r = l1 > r ? l1 : r;
    r = l2 > r ? l2 : r;
    r = l3 > r ? l3 : r;
    y[t * co + o + b] = r;
  }
}

void Kernel(const float* xpad, size_t width, const float* w, size_t kh, size_t co, const ConvEpilogue& ep, size_t t0,
            size_t t1, float* y) {
  for (size_t t = t0; t < t1; ++t) {
    size_t o = 0;
    for (; o + 2 <= co; o += 2) Channels<2>(xpad, width, w, kh, co, ep, t, o, y);
    for (; o < co; ++o) Channels<1>(xpad, width, w, kh, co, ep, t, o, y);
  }
}

}  // namespace

ConvTallFn conv_tall_wasm128_f32(size_t width, size_t co) {
  if (width == 0 || width % 4 != 0 || co == 0) return nullptr;
  return Kernel;
}

}  // namespace chaarfm
