// SPDX-License-Identifier: MIT
// Generic tall-convolution kernel and the dispatch on CpuIsa() (see conv_tall_f32.h). No arch flags here.
#include "conv_tall_f32.h"

#include <cstring>
#include <vector>

#include "conv_f32.h"
#include "cpu_features.h"
#if CHAARFM_WASM128
#include "wasm128_f32.h"
#endif

namespace chaarfm {

#if CHAARFM_X86
ConvTallFn conv_tall_avx512_f32(size_t width, size_t co);  // conv_tall_avx512.cc (null: unsupported shape)
ConvTallFn conv_tall_avx2_f32(size_t width, size_t co);    // conv_tall_avx2.cc
#endif
#if CHAARFM_ARM64
ConvTallFn conv_tall_neon_f32(size_t width, size_t co);    // conv_tall_neon.cc
#endif

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

ConvTallFn conv_tall_variant_f32(const char* isa, size_t width, size_t co) {
#if CHAARFM_X86
  if (!std::strcmp(isa, "avx512")) return conv_tall_avx512_f32(width, co);
  if (!std::strcmp(isa, "avx2")) return conv_tall_avx2_f32(width, co);
#endif
#if CHAARFM_ARM64
  if (!std::strcmp(isa, "neon")) return conv_tall_neon_f32(width, co);
#endif
#if CHAARFM_WASM128
  if (!std::strcmp(isa, "wasm128")) return conv_tall_wasm128_f32(width, co);
#endif
  (void)isa;
  (void)width;
  (void)co;
  return nullptr;
}

const char* conv_tall_variant_name(size_t width, size_t co) {
  const Isa isa = CpuIsa();
  if (isa == Isa::kAvx512 && conv_tall_variant_f32("avx512", width, co)) return "avx512";
  if ((isa == Isa::kAvx512 || isa == Isa::kAvx2) && conv_tall_variant_f32("avx2", width, co)) return "avx2";
  if (isa == Isa::kNeon && conv_tall_variant_f32("neon", width, co)) return "neon";
  if (isa == Isa::kWasm128 && conv_tall_variant_f32("wasm128", width, co)) return "wasm128";
  return "generic";
}

ConvTallFn conv_tall_pool_best_f32(size_t width, size_t co) {
  const char* name = conv_tall_variant_name(width, co);
  return conv_tall_variant_f32(name, width, co);
}

}  // namespace chaarfm
