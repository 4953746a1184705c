// SPDX-License-Identifier: MIT
// NEON (arm64 AdvSIMD) variant of the DFT forms of the wide and tall convolutions (conv_wide_dft.h,
// conv_tall_dft.h; one template each: conv_wide_dft_impl.h, conv_tall_dft_impl.h). 4 lanes, 32 registers: stage A on 4 rows at once; stage B blocks of
// 4 pixel vectors x 4 channels (16 pixels a pass), 16 accumulators. Lane for lane the x86
// variants' chains (vfmaq_f32 / vfmsq_f32 are fused like FMA3).
#include <arm_neon.h>

#include "conv_tall_dft_impl.h"
#include "conv_wide_dft_impl.h"

namespace chaarfm {

namespace {

struct Neon {
  using V = float32x4_t;
  static constexpr size_t kLanes = 4;
  static constexpr int kRows = 4;
  template <int F>
  static constexpr int Channels() { return F == 4 ? 4 : 8; }
  static V Zero() { return vdupq_n_f32(0.f); }
  static V Load(const float* p) { return vld1q_f32(p); }
  static void Store(float* p, V v) { vst1q_f32(p, v); }
  static V Bcast(float x) { return vdupq_n_f32(x); }
  static V Fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V Fnma(V a, V b, V c) { return vfmsq_f32(c, a, b); }
  static V Add(V a, V b) { return vaddq_f32(a, b); }
  static V Sub(V a, V b) { return vsubq_f32(a, b); }
  static V Mul(V a, V b) { return vmulq_f32(a, b); }
  static V Max(V a, V b) { return vmaxq_f32(a, b); }
  static V MaxWhere(V m, V a, const unsigned* mask) { return vbslq_f32(vld1q_u32(mask), vmaxq_f32(a, m), m); }
  static float ReduceMax(V v) { return vmaxvq_f32(v); }
};

}  // namespace

void conv_wide_dft_neon_f32(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1,
                            float* y) {
  wide_dft::Kernel<Neon>(x, k, ep, t0, t1, y);
}

TallDftFns conv_tall_dft_neon_fns() { return tall_dft::Fns<Neon>(); }

}  // namespace chaarfm
