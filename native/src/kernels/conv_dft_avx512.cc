// SPDX-License-Identifier: MIT
// AVX-512F variant of the DFT forms of the wide and tall convolutions (conv_wide_dft.h,
// conv_tall_dft.h; one template each: conv_wide_dft_impl.h, conv_tall_dft_impl.h); built with -mavx512f -mfma and only called after the CPU probe. 16
// lanes; stage A on 4 rows at once (8 accumulators); stage B blocks of 4 pixel vectors x 4
// channels (64 pixels: MusiCNN's 59) or 2 x 8 (32 pixels: its 30), 16 accumulators.
#include <immintrin.h>

#include "conv_tall_dft_impl.h"
#include "conv_wide_dft_impl.h"

namespace chaarfm {

namespace {

struct Avx512 {
  using V = __m512;
  static constexpr size_t kLanes = 16;
  static constexpr int kRows = 4;
  template <int F>
  static constexpr int Channels() { return F == 4 ? 4 : 8; }
  static V Zero() { return _mm512_setzero_ps(); }
  static V Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V Bcast(float x) { return _mm512_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V Max(V a, V b) { return _mm512_max_ps(a, b); }
  static V MaxWhere(V m, V a, const unsigned* mask) {
    const __mmask16 k = _mm512_test_epi32_mask(_mm512_loadu_si512(mask), _mm512_set1_epi32(-1));
    return _mm512_mask_max_ps(m, k, a, m);
  }
  static float ReduceMax(V v) { return _mm512_reduce_max_ps(v); }
};

}  // namespace

void conv_wide_dft_avx512_f32(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1,
                              float* y) {
  wide_dft::Kernel<Avx512>(x, k, ep, t0, t1, y);
}

TallDftFns conv_tall_dft_avx512_fns() { return tall_dft::Fns<Avx512>(); }

}  // namespace chaarfm
