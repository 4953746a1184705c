// SPDX-License-Identifier: MIT
// Generic tall-convolution kernel and the CPU probe (see conv_tall_f32.h). No arch flags here.
#include "conv_tall_f32.h"

#include <vector>

#include "conv_f32.h"
#include "cpu_features.h"
#if defined(__wasm_simd128__)  // wasm: the SIMD128 family (wasm128_f32.h)
#include "wasm128_f32.h"
#endif

namespace chaarfm {

ConvTallFn conv_tall_avx512_f32(size_t width, size_t co);  // conv_tall_avx512.cc (null: unsupported shape)
ConvTallFn conv_tall_avx2_f32(size_t width, size_t co);    // conv_tall_avx2.cc

void conv_tall_pool_generic_f32(const float* xpad, size_t width, const float* w, size_t kh, size_t co,
                                const ConvEpilogue& ep, size_t t0, size_t t1, float* y) {
  std::vector<float> acc(width);
  for (size_t t = t0; t < t1; ++t)
    for (size_t o = 0; o < co; ++o) {
      for (size_t f = 0; f < width; ++f) acc[f] = 0.f;
      for (size_t k = 0; k < kh; ++k) {
        const float* row = xpad + (t + k) * width;
        const float wk = w[k * co + o];
        for (size_t f = 0; f < width; ++f) acc[f] += row[f] * wk;
      }
      float m = 0.f;
      for (size_t f = 0; f < width; ++f) {
        float v = acc[f];
        if (ep.bias) v = v + ep.bias[o];
        if (ep.relu) v = v > 0.f ? v : 0.f;
        if (ep.bn_scale) v = v * ep.bn_scale[o] + ep.bn_shift[o];
        m = f == 0 ? v : (v > m ? v : m);
      }
      y[t * co + o] = m;
    }
}

ConvTallFn conv_tall_pool_best_f32(size_t width, size_t co) {
#if CHAARFM_X86
  const bool avx512 = CpuHasAvx512f(), avx2 = CpuHasAvx2Fma();
  if (avx512) if (ConvTallFn f = conv_tall_avx512_f32(width, co)) return f;
  if (avx2) if (ConvTallFn f = conv_tall_avx2_f32(width, co)) return f;
#elif defined(__wasm_simd128__)  // wasm
  return conv_tall_wasm128_f32(width, co);
#else
  (void)width;
  (void)co;
#endif
  return nullptr;
}

const char* conv_tall_variant_name(size_t width, size_t co) {
#if CHAARFM_X86
  if (CpuHasAvx512f() && conv_tall_avx512_f32(width, co)) return "avx512";
  if (CpuHasAvx2Fma() && conv_tall_avx2_f32(width, co)) return "avx2";
#elif defined(__wasm_simd128__)  // wasm
  if (conv_tall_wasm128_f32(width, co)) return "wasm128";
#else
  (void)width;
  (void)co;
#endif
  return "generic";
}

}  // namespace chaarfm
