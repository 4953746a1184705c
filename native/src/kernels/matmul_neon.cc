// SPDX-License-Identifier: MIT
// NEON (arm64 AdvSIMD) GEMM (see matmul_f32.h); arm64 only, where NEON is the base ISA.
// Tiles of MR <= 6 rows x NV <= 4 vectors of 4 columns (24 accumulators, 4 B vectors and a
// broadcast of the 32 registers); a last vector shorter than 4 columns goes through a small
// zero-padded copy (loads) and a partial store; K in blocks of kKc = 256 (partial sums to C and
// back: exact). Each element is one fused multiply-add chain (vfmaq_f32) over k in increasing
// order, whatever MR/NV/the block: tiling-independent bits. Pure: thread-safe.
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "cpu_features.h"

namespace chaarfm {

namespace {

constexpr size_t kKc = 256;
constexpr int kMr = 6, kNv = 4, kLanes = 4;

inline float32x4_t LoadN(const float* p, size_t n) {
  if (n == kLanes) return vld1q_f32(p);
  float t[kLanes] = {0.f, 0.f, 0.f, 0.f};
  std::memcpy(t, p, n * sizeof(float));
  return vld1q_f32(t);
}
inline void StoreN(float* p, float32x4_t v, size_t n) {
  if (n == kLanes) return vst1q_f32(p, v);
  float t[kLanes];
  vst1q_f32(t, v);
  std::memcpy(p, t, n * sizeof(float));
}

template <int MR, int NV>
void Tile(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t k0, size_t k1,
          size_t last) {
  float32x4_t acc[MR][NV];
  const bool first = k0 == 0;
CHAARFM_UNROLL
  for (int r = 0; r < MR; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v)
      acc[r][v] = first ? vdupq_n_f32(0.f) : LoadN(C + r * ldc + kLanes * v, v == NV - 1 ? last : kLanes);
  for (size_t k = k0; k < k1; ++k) {
    const float* b = B + k * ldb;
    float32x4_t bv[NV];
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) bv[v] = v == NV - 1 ? LoadN(b + kLanes * v, last) : vld1q_f32(b + kLanes * v);
CHAARFM_UNROLL
    for (int r = 0; r < MR; ++r) {
      const float32x4_t a = vdupq_n_f32(A[r * lda + k]);
CHAARFM_UNROLL
      for (int v = 0; v < NV; ++v) acc[r][v] = vfmaq_f32(acc[r][v], a, bv[v]);
    }
  }
CHAARFM_UNROLL
  for (int r = 0; r < MR; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) StoreN(C + r * ldc + kLanes * v, acc[r][v], v == NV - 1 ? last : kLanes);
}

using TileFn = void (*)(const float*, size_t, const float*, size_t, float*, size_t, size_t, size_t, size_t);

template <int MR>
TileFn PickNv(int nv) {
  return nv == 1 ? Tile<MR, 1> : nv == 2 ? Tile<MR, 2> : nv == 3 ? Tile<MR, 3> : Tile<MR, 4>;
}
TileFn Pick(int mr, int nv) {
  switch (mr) {
    case 1: return PickNv<1>(nv);
    case 2: return PickNv<2>(nv);
    case 3: return PickNv<3>(nv);
    case 4: return PickNv<4>(nv);
    case 5: return PickNv<5>(nv);
    default: return PickNv<6>(nv);
  }
}

}  // namespace

void gemm_neon_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M, size_t N,
                   size_t K) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (size_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, N * sizeof(float));
    return;
  }
  constexpr size_t kCols = static_cast<size_t>(kNv) * kLanes;
  for (size_t k0 = 0; k0 < K; k0 += kKc) {
    const size_t k1 = std::min(K, k0 + kKc);
    for (size_t i = 0; i < M; i += kMr) {
      const int mr = static_cast<int>(std::min<size_t>(kMr, M - i));
      for (size_t j = 0; j < N; j += kCols) {
        const size_t cols = std::min(kCols, N - j);
        const int nv = static_cast<int>((cols + kLanes - 1) / kLanes);
        Pick(mr, nv)(A + i * lda, lda, B + j, ldb, C + i * ldc + j, ldc, k0, k1, cols - (nv - 1) * kLanes);
      }
    }
  }
}

}  // namespace chaarfm
