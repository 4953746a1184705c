// SPDX-License-Identifier: MIT
// AVX-512F GEMM (see matmul_f32.h); built with -mavx512f -mfma, called only after the CPU probe.
// Tiles of MR <= 6 rows x NV <= 4 vectors of 16 columns (24 accumulators, 4 B vectors and a
// broadcast of the 32 registers), the last vector of a row masked; K in blocks of kKc = 256 so
// the B rows of a block (256 x 64 floats = 64 KB for MusiCNN's conv2d_5-7) stay in L2 while all
// row tiles use them; between blocks the partial sums go to C and back (exact). Each element is
// one FMA chain over k in increasing order, whatever MR/NV/the block: tiling-independent bits.
// Pure: thread-safe.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "cpu_features.h"

namespace chaarfm {

namespace {

constexpr size_t kKc = 256;
constexpr int kMr = 6, kNv = 4, kLanes = 16;

template <int MR, int NV>
void Tile(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t k0, size_t k1,
          __mmask16 tail) {
  __m512 acc[MR][NV];
  const bool first = k0 == 0;
CHAARFM_UNROLL
  for (int r = 0; r < MR; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v)
      acc[r][v] = first ? _mm512_setzero_ps()
                        : (v == NV - 1 ? _mm512_maskz_loadu_ps(tail, C + r * ldc + kLanes * v)
                                       : _mm512_loadu_ps(C + r * ldc + kLanes * v));
  for (size_t k = k0; k < k1; ++k) {
    const float* b = B + k * ldb;
    __m512 bv[NV];
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v)
      bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(tail, b + kLanes * v) : _mm512_loadu_ps(b + kLanes * v);
CHAARFM_UNROLL
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + k]);
CHAARFM_UNROLL
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, bv[v], acc[r][v]);
    }
  }
CHAARFM_UNROLL
  for (int r = 0; r < MR; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) {
      if (v == NV - 1) _mm512_mask_storeu_ps(C + r * ldc + kLanes * v, tail, acc[r][v]);
      else _mm512_storeu_ps(C + r * ldc + kLanes * v, acc[r][v]);
    }
}

using TileFn = void (*)(const float*, size_t, const float*, size_t, float*, size_t, size_t, size_t, __mmask16);

template <int MR>
constexpr TileFn Pick(int nv) {
  return nv == 1 ? Tile<MR, 1> : nv == 2 ? Tile<MR, 2> : nv == 3 ? Tile<MR, 3> : Tile<MR, 4>;
}
TileFn Pick(int mr, int nv) {
  switch (mr) {
    case 1: return Pick<1>(nv);
    case 2: return Pick<2>(nv);
    case 3: return Pick<3>(nv);
    case 4: return Pick<4>(nv);
    case 5: return Pick<5>(nv);
    default: return Pick<6>(nv);
  }
}

}  // namespace

void gemm_avx512_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M,
                     size_t N, size_t K) {
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
        const size_t last = cols - (nv - 1) * kLanes;
        const __mmask16 tail = static_cast<__mmask16>(last == kLanes ? 0xFFFF : (1u << last) - 1);
        Pick(mr, nv)(A + i * lda, lda, B + j, ldb, C + i * ldc + j, ldc, k0, k1, tail);
      }
    }
  }
}

}  // namespace chaarfm
