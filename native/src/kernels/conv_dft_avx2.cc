// SPDX-License-Identifier: MIT
// AVX2+FMA variant of the DFT forms of the wide and tall convolutions (conv_wide_dft.h,
// conv_tall_dft.h; one template each: conv_wide_dft_impl.h, conv_tall_dft_impl.h); built with -mavx2 -mfma and only called after the CPU probe. 8 lanes,
// 16 registers: stage A on 4 rows at once (8 accumulators, 2 weight vectors, 2 broadcasts);
// stage B blocks of 4 pixel vectors x 2 channels (32 pixels) or 2 x 4, 8 accumulators. Lane for
// lane the AVX-512 variant's chains, so the same bits.
#include <immintrin.h>

#include "conv_tall_dft_impl.h"
#include "conv_wide_dft_impl.h"

namespace chaarfm {

namespace {

struct Avx2 {
  using V = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr int kRows = 4;
  template <int F>
  static constexpr int Channels() { return F == 4 ? 2 : F == 2 ? 4 : 8; }
  static V Zero() { return _mm256_setzero_ps(); }
  static V Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V Bcast(float x) { return _mm256_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  static V MaxWhere(V m, V a, const unsigned* mask) {
    const V k = _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(mask)));
    return _mm256_blendv_ps(m, _mm256_max_ps(a, m), k);
  }
  static float ReduceMax(V v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
  }
};

}  // namespace

void conv_wide_dft_avx2_f32(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1,
                            float* y) {
  wide_dft::Kernel<Avx2>(x, k, ep, t0, t1, y);
}

TallDftFns conv_tall_dft_avx2_fns() { return tall_dft::Fns<Avx2>(); }

}  // namespace chaarfm
