// SPDX-License-Identifier: MIT
// SincDotNeon (sinc_medium.h): 4 output samples at a time, 2 per float64x2, one per lane. NEON
// has no gather: each lane's pair and sample are loaded by index, the arithmetic is vector
// double, libsamplerate's, without FMA (this unit is compiled with -ffp-contract=off, so GCC
// does not fuse vmulq_f64 + vaddq_f64 into fmla).
#include <arm_neon.h>

#include <cstring>

#include "audio/sinc_lanes.h"

namespace chaarfm {

namespace {

constexpr int kG = 4;

struct Half {
  int32_t fi[kG], d[kG];
  float64x2_t acc[2];
};

template <bool kMasked>
inline void Step(Half& h, const float* pairs, const float* v, int32_t inc, int dir, const uint64x2_t* mask,
                 int32_t max_idx) {
  const float64x2_t inv = vdupq_n_f64(1.0 / 4096);
  for (int b = 0; b < 2; b++) {
    const int k = 2 * b;
    int32_t i0 = h.fi[k] >> 12, i1 = h.fi[k + 1] >> 12;
    if (kMasked) {
      i0 = i0 < max_idx ? i0 : max_idx;
      i1 = i1 < max_idx ? i1 : max_idx;
    }
    const int32_t f2[2] = {h.fi[k] & 4095, h.fi[k + 1] & 4095};
    const float64x2_t frac = vmulq_f64(vcvtq_f64_s64(vmovl_s32(vld1_s32(f2))), inv);
    const float32x2_t p0 = vld1_f32(pairs + 2 * i0), p1 = vld1_f32(pairs + 2 * i1);
    const float32x2x2_t cd = vzip_f32(p0, p1);  // {c0, c1}, {d0, d1}
    const float64x2_t cf = vcvt_f64_f32(cd.val[0]), df = vcvt_f64_f32(cd.val[1]);
    const float64x2_t icoeff = vaddq_f64(cf, vmulq_f64(frac, df));
    const float x2[2] = {v[h.d[k]], v[h.d[k + 1]]};
    const float64x2_t x = vcvt_f64_f32(vld1_f32(x2));
    const float64x2_t sum = vaddq_f64(h.acc[b], vmulq_f64(icoeff, x));
    h.acc[b] = kMasked ? vbslq_f64(mask[b], sum, h.acc[b]) : sum;
  }
  for (int k = 0; k < kG; k++) {
    h.fi[k] -= inc;
    h.d[k] += dir;
  }
}

void RunHalf(Half& h, const int32_t* fi, const int32_t* d, const int32_t* from, int steps, int masked,
             const float* pairs, const float* v, int32_t inc, int dir, int32_t max_idx) {
  std::memcpy(h.fi, fi, sizeof h.fi);
  std::memcpy(h.d, d, sizeof h.d);
  h.acc[0] = h.acc[1] = vdupq_n_f64(0.0);
  int s = 0;
  for (; s < masked && s < steps; s++) {
    uint64x2_t m[2];
    for (int b = 0; b < 2; b++) {
      const uint64_t bits[2] = {s >= from[2 * b] ? ~uint64_t{0} : 0, s >= from[2 * b + 1] ? ~uint64_t{0} : 0};
      m[b] = vld1q_u64(bits);
    }
    Step<true>(h, pairs, v, inc, dir, m, max_idx);
  }
  for (; s < steps; s++) Step<false>(h, pairs, v, inc, dir, nullptr, max_idx);
}

}  // namespace

void SincDotNeon(const SincTable& t, const SincParams& p, const float* v, const int32_t* center,
                 const int32_t* phase, size_t n, float* out) {
  const float64x2_t scale = vdupq_n_f64(p.scale);
  SincLanes<kG> lanes;
  for (size_t j0 = 0; j0 < n; j0 += kG) {
    const size_t count = n - j0 < static_cast<size_t>(kG) ? n - j0 : static_cast<size_t>(kG);
    lanes.Set(p, center + j0, phase + j0, count);
    Half l, r;
    RunHalf(l, lanes.fi_l, lanes.d_l, lanes.from_l, lanes.steps_l, lanes.masked_l, t.pairs, v, p.increment, 1,
            t.size - 1);
    RunHalf(r, lanes.fi_r, lanes.d_r, lanes.from_r, lanes.steps_r, lanes.masked_r, t.pairs, v, p.increment, -1,
            t.size - 1);
    float res[kG];
    for (int b = 0; b < 2; b++) {
      vst1_f32(res + 2 * b, vcvt_f32_f64(vmulq_f64(scale, vaddq_f64(l.acc[b], r.acc[b]))));
    }
    std::memcpy(out + j0, res, count * sizeof(float));
  }
}

}  // namespace chaarfm
