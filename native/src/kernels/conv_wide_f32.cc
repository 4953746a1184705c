// SPDX-License-Identifier: MIT
// Generic wide-convolution kernel and the CPU probe (see conv_wide_f32.h). No arch flags here.
#include "conv_wide_f32.h"

#include "conv_f32.h"
#include "cpu_features.h"
#if defined(__wasm_simd128__)  // wasm: the SIMD128 family (wasm128_f32.h)
#include "wasm128_f32.h"
#endif

namespace chaarfm {

ConvWideFn conv_wide_avx512_f32(size_t width, size_t kw, size_t co);  // conv_wide_avx512.cc (null: unsupported)

void conv_wide_pool_generic_f32(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co,
                                const ConvEpilogue& ep, size_t t0, size_t t1, float* y) {
  const size_t ow = width - kw + 1;
  for (size_t t = t0; t < t1; ++t)
    for (size_t o = 0; o < co; ++o) {
      float m = 0.f;
      for (size_t f = 0; f < ow; ++f) {
        float v = 0.f;
        for (size_t i = 0; i < kh; ++i)
          for (size_t j = 0; j < kw; ++j) v += x[(t + i) * width + f + j] * w[(i * kw + j) * co + o];
        if (ep.bias) v = v + ep.bias[o];
        if (ep.relu) v = v > 0.f ? v : 0.f;
        if (ep.bn_scale) v = v * ep.bn_scale[o] + ep.bn_shift[o];
        m = f == 0 ? v : (v > m ? v : m);
      }
      y[t * co + o] = m;
    }
}

ConvWideFn conv_wide_pool_best_f32(size_t width, size_t kw, size_t co) {
#if CHAARFM_X86
  if (CpuHasAvx512f()) return conv_wide_avx512_f32(width, kw, co);
#elif defined(__wasm_simd128__)  // wasm
  return conv_wide_wasm128_f32(width, kw, co);
#else
  (void)width;
  (void)kw;
  (void)co;
#endif
  return nullptr;
}

}  // namespace chaarfm
