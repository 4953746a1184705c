// SPDX-License-Identifier: MIT
// SincDotWasm128 (sinc_medium.h): the WebAssembly SIMD128 variant, a port of SincDotNeon. 4 output
// samples at a time, 2 per f64x2, one per lane. SIMD128 has no gather: each lane's
// {coefficient, difference} pair (64 bits) and sample are loaded by index; the filter indices of
// the 4 lanes step together in one i32x4. The arithmetic is libsamplerate's, in double, without
// FMA (SIMD128 has none; the unit is compiled with -ffp-contract=off), so the bits are
// SincDotGeneric's.
#include <wasm_simd128.h>

#include <cstring>

#include "audio/sinc_lanes.h"

namespace chaarfm {

namespace {

constexpr int kG = 4;

struct Half {
  v128_t fi;       // i32x4: the lanes' filter indices
  int32_t d[kG];   // the lanes' sample indices
  v128_t acc[2];   // f64x2: lanes 0-1, 2-3
};

// lanes' pairs {c, d} at pairs + 2 * idx[k] -> c (f64x2) and d (f64x2) for lanes (k0, k0 + 1)
inline void LoadPair2(const float* pairs, int32_t i0, int32_t i1, v128_t* c, v128_t* d) {
  v128_t q = wasm_v128_load64_zero(pairs + 2 * static_cast<ptrdiff_t>(i0));  // c0 d0 0 0
  q = wasm_v128_load64_lane(pairs + 2 * static_cast<ptrdiff_t>(i1), q, 1);    // c0 d0 c1 d1
  *c = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(q, q, 0, 2, 0, 2));
  *d = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(q, q, 1, 3, 1, 3));
}

template <bool kMasked>
inline void Step(Half& h, const float* pairs, const float* v, v128_t inc, int dir, const v128_t* mask,
                 int32_t max_idx) {
  const v128_t inv = wasm_f64x2_splat(1.0 / 4096);
  v128_t idx = wasm_i32x4_shr(h.fi, 12);
  if (kMasked) idx = wasm_i32x4_min(idx, wasm_i32x4_splat(max_idx));
  const v128_t fr = wasm_v128_and(h.fi, wasm_i32x4_splat(4095));
  const v128_t frac[2] = {wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(fr), inv),
                          wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(fr, fr, 2, 3, 2, 3)), inv)};
  const int32_t i[kG] = {wasm_i32x4_extract_lane(idx, 0), wasm_i32x4_extract_lane(idx, 1),
                         wasm_i32x4_extract_lane(idx, 2), wasm_i32x4_extract_lane(idx, 3)};
  for (int b = 0; b < 2; b++) {
    const int k = 2 * b;
    v128_t c, d;
    LoadPair2(pairs, i[k], i[k + 1], &c, &d);
    const v128_t icoeff = wasm_f64x2_add(c, wasm_f64x2_mul(frac[b], d));
    const v128_t x = wasm_f64x2_make(static_cast<double>(v[h.d[k]]), static_cast<double>(v[h.d[k + 1]]));
    const v128_t sum = wasm_f64x2_add(h.acc[b], wasm_f64x2_mul(icoeff, x));
    h.acc[b] = kMasked ? wasm_v128_bitselect(sum, h.acc[b], mask[b]) : sum;
  }
  h.fi = wasm_i32x4_sub(h.fi, inc);
  for (int k = 0; k < kG; k++) h.d[k] += dir;
}

void RunHalf(Half& h, const int32_t* fi, const int32_t* d, const int32_t* from, int steps, int masked,
             const float* pairs, const float* v, int32_t inc, int dir, int32_t max_idx) {
  h.fi = wasm_v128_load(fi);
  std::memcpy(h.d, d, sizeof h.d);
  h.acc[0] = h.acc[1] = wasm_f64x2_splat(0.0);
  const v128_t vinc = wasm_i32x4_splat(inc);
  int s = 0;
  for (; s < masked && s < steps; s++) {
    v128_t m[2];
    for (int b = 0; b < 2; b++) {
      m[b] = wasm_i64x2_make(s >= from[2 * b] ? -1 : 0, s >= from[2 * b + 1] ? -1 : 0);
    }
    Step<true>(h, pairs, v, vinc, dir, m, max_idx);
  }
  for (; s < steps; s++) Step<false>(h, pairs, v, vinc, dir, nullptr, max_idx);
}

}  // namespace

void SincDotWasm128(const SincTable& t, const SincParams& p, const float* v, const int32_t* center,
                    const int32_t* phase, size_t n, float* out) {
  const v128_t scale = wasm_f64x2_splat(p.scale);
  SincLanes<kG> lanes;
  for (size_t j0 = 0; j0 < n; j0 += kG) {
    const size_t count = n - j0 < static_cast<size_t>(kG) ? n - j0 : static_cast<size_t>(kG);
    lanes.Set(p, center + j0, phase + j0, count);
    Half l, r;
    RunHalf(l, lanes.fi_l, lanes.d_l, lanes.from_l, lanes.steps_l, lanes.masked_l, t.pairs, v, p.increment, 1,
            t.size - 1);
    RunHalf(r, lanes.fi_r, lanes.d_r, lanes.from_r, lanes.steps_r, lanes.masked_r, t.pairs, v, p.increment, -1,
            t.size - 1);
    alignas(16) float res[kG];
    for (int b = 0; b < 2; b++) {
      const v128_t y = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_mul(scale, wasm_f64x2_add(l.acc[b], r.acc[b])));
      wasm_v128_store64_lane(res + 2 * b, y, 0);
    }
    std::memcpy(out + j0, res, count * sizeof(float));
  }
}

}  // namespace chaarfm
