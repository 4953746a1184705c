// SPDX-License-Identifier: MIT
// SincDotAvx512 (sinc_medium.h): 16 output samples at a time, 8 per zmm of doubles, one per lane.
// Per step and lane: the 64-bit {coefficient, difference} pair loaded by index and inserted, the
// sample from a transposed block of 8 steps (measured: both faster than vpgatherdq/vgatherdps
// on this machine's Zen 4 EPYC), then libsamplerate's
// arithmetic in double, without FMA (this unit is compiled with -mavx512f -ffp-contract=off).
// Needs AVX-512F only.
#include <immintrin.h>

#include <cstring>

#include "audio/sinc_lanes.h"

namespace chaarfm {

namespace {

constexpr int kG = 16;

struct Half {
  __m256i fi[2];      // filter indices of the lanes
  alignas(32) int32_t d[kG];  // sample index of each lane at step 0
  __m512d acc[2];
};

// 8 pairs {c, d} (64 bits each) at pairs + 2 * idx[k]: loads and inserts, no gather instruction
// (vpgatherdq is slower than this on Zen 4)
inline __m512i LoadPairs(const float* pairs, const int32_t* idx) {
  auto at = [&](int k) { return reinterpret_cast<const double*>(pairs + 2 * static_cast<ptrdiff_t>(idx[k])); };
  const __m128d q0 = _mm_loadh_pd(_mm_load_sd(at(0)), at(1));
  const __m128d q1 = _mm_loadh_pd(_mm_load_sd(at(2)), at(3));
  const __m128d q2 = _mm_loadh_pd(_mm_load_sd(at(4)), at(5));
  const __m128d q3 = _mm_loadh_pd(_mm_load_sd(at(6)), at(7));
  const __m256d h0 = _mm256_insertf128_pd(_mm256_castpd128_pd256(q0), q1, 1);
  const __m256d h1 = _mm256_insertf128_pd(_mm256_castpd128_pd256(q2), q3, 1);
  return _mm512_castpd_si512(_mm512_insertf64x4(_mm512_castpd256_pd512(h0), h1, 1));
}

// The samples of 8 lanes for 8 steps: each lane's 8 are contiguous (rising for the left half,
// falling for the right), so 8 loads and a transpose give col[t] = the 8 lanes' samples at step t.
template <int kDir>
inline void LoadSampleBlock(const float* v, const int32_t* d, int s0, float (*col)[8]) {
  __m256 r[8];
  for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(kDir > 0 ? v + d[k] + s0 : v + d[k] - s0 - 7);
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  __m256 c[8];
  c[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  c[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  c[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  c[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  c[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  c[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  c[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  c[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
  // c[e] holds element e of each lane's load: step s0 + e (left) or s0 + 7 - e (right)
  for (int e = 0; e < 8; e++) _mm256_store_ps(col[kDir > 0 ? e : 7 - e], c[e]);
}

// one step of both zmm blocks; `mask`: lanes that add their tap (all of them outside the
// leading masked steps)
template <bool kMasked>
inline void Step(Half& h, const float* pairs, const float* x0, const float* x1, int32_t inc, const __mmask8* mask,
                 int32_t max_idx) {
  const __m256i frac_bits = _mm256_set1_epi32(4095);
  const __m512d inv = _mm512_set1_pd(1.0 / 4096);
  const float* xs[2] = {x0, x1};
  for (int b = 0; b < 2; b++) {
    __m256i vi = _mm256_srai_epi32(h.fi[b], 12);
    if (kMasked) vi = _mm256_min_epi32(vi, _mm256_set1_epi32(max_idx));  // an inactive lane may point past the taps
    alignas(32) int32_t idx[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(idx), vi);
    const __m512d frac = _mm512_mul_pd(_mm512_cvtepi32_pd(_mm256_and_si256(h.fi[b], frac_bits)), inv);
    const __m512i pr = LoadPairs(pairs, idx);
    const __m512d cf = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_cvtepi64_epi32(pr)));
    const __m512d df = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_cvtepi64_epi32(_mm512_srli_epi64(pr, 32))));
    const __m512d icoeff = _mm512_add_pd(cf, _mm512_mul_pd(frac, df));
    const __m512d x = _mm512_cvtps_pd(_mm256_load_ps(xs[b]));
    const __m512d prod = _mm512_mul_pd(icoeff, x);
    h.acc[b] = kMasked ? _mm512_mask_add_pd(h.acc[b], mask[b], h.acc[b], prod) : _mm512_add_pd(h.acc[b], prod);
    h.fi[b] = _mm256_sub_epi32(h.fi[b], _mm256_set1_epi32(inc));
  }
}

template <int kDir>
void RunHalf(Half& h, const int32_t* fi, const int32_t* d, const int32_t* from, int steps, int masked,
             const float* pairs, const float* v, int32_t inc, int32_t max_idx) {
  for (int b = 0; b < 2; b++) {
    h.fi[b] = _mm256_load_si256(reinterpret_cast<const __m256i*>(fi + 8 * b));
    h.acc[b] = _mm512_setzero_pd();
  }
  alignas(32) float col[2][8][8];
  for (int s0 = 0; s0 < steps; s0 += 8) {
    LoadSampleBlock<kDir>(v, d, s0, col[0]);
    LoadSampleBlock<kDir>(v, d + 8, s0, col[1]);
    const int end = steps - s0 < 8 ? steps - s0 : 8;
    for (int t = 0; t < end; t++) {
      const int s = s0 + t;
      if (s < masked) {
        __mmask8 m[2] = {0, 0};
        for (int k = 0; k < kG; k++) {
          if (s >= from[k]) m[k / 8] = static_cast<__mmask8>(m[k / 8] | (1u << (k % 8)));
        }
        Step<true>(h, pairs, col[0][t], col[1][t], inc, m, max_idx);
      } else {
        Step<false>(h, pairs, col[0][t], col[1][t], inc, nullptr, max_idx);
      }
    }
  }
}

}  // namespace

void SincDotAvx512(const SincTable& t, const SincParams& p, const float* v, const int32_t* center,
                   const int32_t* phase, size_t n, float* out) {
  const float* pairs = t.pairs;
  const __m512d scale = _mm512_set1_pd(p.scale);
  SincLanes<kG> lanes;
  for (size_t j0 = 0; j0 < n; j0 += kG) {
    const size_t count = n - j0 < static_cast<size_t>(kG) ? n - j0 : static_cast<size_t>(kG);
    lanes.Set(p, center + j0, phase + j0, count);
    Half l, r;
    RunHalf<1>(l, lanes.fi_l, lanes.d_l, lanes.from_l, lanes.steps_l, lanes.masked_l, pairs, v, p.increment, t.size - 1);
    RunHalf<-1>(r, lanes.fi_r, lanes.d_r, lanes.from_r, lanes.steps_r, lanes.masked_r, pairs, v, p.increment, t.size - 1);
    alignas(64) float res[kG];
    for (int b = 0; b < 2; b++) {
      const __m512d y = _mm512_mul_pd(scale, _mm512_add_pd(l.acc[b], r.acc[b]));
      _mm256_store_ps(res + 8 * b, _mm512_cvtpd_ps(y));
    }
    std::memcpy(out + j0, res, count * sizeof(float));
  }
}

}  // namespace chaarfm
