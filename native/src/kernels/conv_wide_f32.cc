// SPDX-License-Identifier: MIT
// Generic wide-convolution kernel and the dispatch on CpuIsa() (see conv_wide_f32.h). No arch
// flags here.
#include "conv_wide_f32.h"

#include <cstring>

#include "conv_f32.h"
#include "cpu_features.h"
#if CHAARFM_WASM128
#include "wasm128_f32.h"
#endif

namespace chaarfm {

#if CHAARFM_X86
ConvWideFn conv_wide_avx512_f32(size_t width, size_t kw, size_t co);  // conv_wide_avx512.cc (null: unsupported)
ConvWideFn conv_wide_avx2_f32(size_t width, size_t kw, size_t co);    // conv_wide_avx2.cc
#endif
#if CHAARFM_ARM64
ConvWideFn conv_wide_neon_f32(size_t width, size_t kw, size_t co);    // conv_wide_neon.cc
#endif

void conv_wide_pool_generic_f32(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co,
                                const ConvEpilogue& ep, size_t t0, size_t t1, float* y) {
  conv_wide_pool_generic_channels_f32(x, width, w, kh, kw, co, ep, t0, t1, 0, y);
}

void conv_wide_pool_generic_channels_f32(const float* x, size_t width, const float* w, size_t kh, size_t kw,
                                         size_t co, const ConvEpilogue& ep, size_t t0, size_t t1, size_t o0,
                                         float* y) {
  const size_t ow = width - kw + 1;
  for (size_t t = t0; t < t1; ++t)
    for (size_t o = o0; o < co; ++o) {
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

ConvWideFn conv_wide_variant_f32(const char* isa, size_t width, size_t kw, size_t co) {
#if CHAARFM_X86
  if (!std::strcmp(isa, "avx512")) return conv_wide_avx512_f32(width, kw, co);
  if (!std::strcmp(isa, "avx2")) return conv_wide_avx2_f32(width, kw, co);
#endif
#if CHAARFM_ARM64
  if (!std::strcmp(isa, "neon")) return conv_wide_neon_f32(width, kw, co);
#endif
#if CHAARFM_WASM128
  if (!std::strcmp(isa, "wasm128")) return conv_wide_wasm128_f32(width, kw, co);
#endif
  (void)isa;
  (void)width;
  (void)kw;
  (void)co;
  return nullptr;
}

ConvWideFn conv_wide_pool_best_f32(size_t width, size_t kw, size_t co) {
  const Isa isa = CpuIsa();
  if (isa == Isa::kAvx512)
    if (ConvWideFn f = conv_wide_variant_f32("avx512", width, kw, co)) return f;
  if (isa == Isa::kAvx512 || isa == Isa::kAvx2)
    if (ConvWideFn f = conv_wide_variant_f32("avx2", width, kw, co)) return f;
  if (isa == Isa::kNeon)
    if (ConvWideFn f = conv_wide_variant_f32("neon", width, kw, co)) return f;
  if (isa == Isa::kWasm128)
    if (ConvWideFn f = conv_wide_variant_f32("wasm128", width, kw, co)) return f;
  return nullptr;
}

const char* conv_wide_variant_name(size_t width, size_t kw, size_t co) {
  const Isa isa = CpuIsa();
  if (isa == Isa::kAvx512 && conv_wide_variant_f32("avx512", width, kw, co)) return "avx512";
  if ((isa == Isa::kAvx512 || isa == Isa::kAvx2) && conv_wide_variant_f32("avx2", width, kw, co)) return "avx2";
  if (isa == Isa::kNeon && conv_wide_variant_f32("neon", width, kw, co)) return "neon";
  if (isa == Isa::kWasm128 && conv_wide_variant_f32("wasm128", width, kw, co)) return "wasm128";
  return "generic";
}

}  // namespace chaarfm
