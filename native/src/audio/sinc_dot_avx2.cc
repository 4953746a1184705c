// SPDX-License-Identifier: MIT
// SincDotAvx2 (sinc_medium.h): 8 output samples at a time, 4 per ymm of doubles, one per lane.
// Per step and lane: the 64-bit {coefficient, difference} pair loaded by index, the sample from a
// transposed block of 8 steps (no gather instructions: slower on this machine's Zen 4), then
// libsamplerate's arithmetic in double, without FMA (this unit is compiled with -mavx2
// -ffp-contract=off).
#include <immintrin.h>

#include <cstring>

#include "audio/sinc_lanes.h"

namespace chaarfm {

namespace {

constexpr int kG = 8;

struct Half {
  __m128i fi[2];  // filter indices of the lanes
  __m256d acc[2];
};

// 4 pairs {c, d} (64 bits each) at pairs + 2 * idx[k], as 4 floats c and 4 floats d: loads and
// inserts, no gather instruction (slower than this on Zen 4)
inline void LoadPairs(const float* pairs, const int32_t* idx, __m128* c, __m128* d) {
  auto at = [&](int k) { return reinterpret_cast<const double*>(pairs + 2 * static_cast<ptrdiff_t>(idx[k])); };
  const __m128 q0 = _mm_castpd_ps(_mm_loadh_pd(_mm_load_sd(at(0)), at(1)));  // c0 d0 c1 d1
  const __m128 q1 = _mm_castpd_ps(_mm_loadh_pd(_mm_load_sd(at(2)), at(3)));  // c2 d2 c3 d3
  *c = _mm_shuffle_ps(q0, q1, 0x88);
  *d = _mm_shuffle_ps(q0, q1, 0xDD);
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
  for (int e = 0; e < 8; e++) _mm256_store_ps(col[kDir > 0 ? e : 7 - e], c[e]);
}

template <bool kMasked>
inline void Step(Half& h, const float* pairs, const float* x, int32_t inc, const __m256d* mask, int32_t max_idx) {
  const __m128i frac_bits = _mm_set1_epi32(4095);
  const __m256d inv = _mm256_set1_pd(1.0 / 4096);
  for (int b = 0; b < 2; b++) {
    __m128i vi = _mm_srai_epi32(h.fi[b], 12);
    if (kMasked) vi = _mm_min_epi32(vi, _mm_set1_epi32(max_idx));
    alignas(16) int32_t idx[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(idx), vi);
    const __m256d frac = _mm256_mul_pd(_mm256_cvtepi32_pd(_mm_and_si128(h.fi[b], frac_bits)), inv);
    __m128 c, d;
    LoadPairs(pairs, idx, &c, &d);
    const __m256d icoeff = _mm256_add_pd(_mm256_cvtps_pd(c), _mm256_mul_pd(frac, _mm256_cvtps_pd(d)));
    const __m256d xs = _mm256_cvtps_pd(_mm_load_ps(x + 4 * b));
    const __m256d sum = _mm256_add_pd(h.acc[b], _mm256_mul_pd(icoeff, xs));
    h.acc[b] = kMasked ? _mm256_blendv_pd(h.acc[b], sum, mask[b]) : sum;
    h.fi[b] = _mm_sub_epi32(h.fi[b], _mm_set1_epi32(inc));
  }
}

template <int kDir>
void RunHalf(Half& h, const int32_t* fi, const int32_t* d, const int32_t* from, int steps, int masked,
             const float* pairs, const float* v, int32_t inc, int32_t max_idx) {
  for (int b = 0; b < 2; b++) {
    h.fi[b] = _mm_load_si128(reinterpret_cast<const __m128i*>(fi + 4 * b));
    h.acc[b] = _mm256_setzero_pd();
  }
  alignas(32) float col[8][8];
  for (int s0 = 0; s0 < steps; s0 += 8) {
    LoadSampleBlock<kDir>(v, d, s0, col);
    const int end = steps - s0 < 8 ? steps - s0 : 8;
    for (int t = 0; t < end; t++) {
      const int s = s0 + t;
      if (s < masked) {
        __m256d m[2];
        for (int b = 0; b < 2; b++) {
          const int k = 4 * b;
          m[b] = _mm256_castsi256_pd(_mm256_setr_epi64x(s >= from[k] ? -1 : 0, s >= from[k + 1] ? -1 : 0,
                                                        s >= from[k + 2] ? -1 : 0, s >= from[k + 3] ? -1 : 0));
        }
        Step<true>(h, pairs, col[t], inc, m, max_idx);
      } else {
        Step<false>(h, pairs, col[t], inc, nullptr, max_idx);
      }
    }
  }
}

}  // namespace

void SincDotAvx2(const SincTable& t, const SincParams& p, const float* v, const int32_t* center,
                 const int32_t* phase, size_t n, float* out) {
  const float* pairs = t.pairs;
  const __m256d scale = _mm256_set1_pd(p.scale);
  SincLanes<kG> lanes;
  for (size_t j0 = 0; j0 < n; j0 += kG) {
    const size_t count = n - j0 < static_cast<size_t>(kG) ? n - j0 : static_cast<size_t>(kG);
    lanes.Set(p, center + j0, phase + j0, count);
    Half l, r;
    RunHalf<1>(l, lanes.fi_l, lanes.d_l, lanes.from_l, lanes.steps_l, lanes.masked_l, pairs, v, p.increment, t.size - 1);
    RunHalf<-1>(r, lanes.fi_r, lanes.d_r, lanes.from_r, lanes.steps_r, lanes.masked_r, pairs, v, p.increment, t.size - 1);
    alignas(32) float res[kG];
    for (int b = 0; b < 2; b++) {
      const __m256d y = _mm256_mul_pd(scale, _mm256_add_pd(l.acc[b], r.acc[b]));
      _mm_store_ps(res + 4 * b, _mm256_cvtpd_ps(y));
    }
    std::memcpy(out + j0, res, count * sizeof(float));
  }
}

}  // namespace chaarfm
