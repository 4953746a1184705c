// SPDX-License-Identifier: MIT
// AVX2+FMA GEMM (see matmul_f32.h); built with -mavx2 -mfma, called only after the CPU probe.
// Tiles of MR <= 6 rows x NV <= 2 vectors of 8 columns (12 accumulators, 2 B vectors and a
// broadcast of the 16 registers), the last vector of a row masked (maskload/maskstore); K in
// blocks of kKc = 256 (partial sums to C and back: exact). Each element is one FMA chain over k
// in increasing order, whatever MR/NV/the block: tiling-independent bits. Pure: thread-safe.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "cpu_features.h"

namespace chaarfm {

namespace {

constexpr size_t kKc = 256;
constexpr int kMr = 6, kNv = 2, kLanes = 8;

inline __m256i TailMask(size_t last) {
  alignas(32) static const int ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ones + 8 - last));
}

template <int MR, int NV>
void Tile(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t k0, size_t k1,
          __m256i tail) {
  __m256 acc[MR][NV];
  const bool first = k0 == 0;
CHAARFM_UNROLL
  for (int r = 0; r < MR; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v)
      acc[r][v] = first ? _mm256_setzero_ps()
                        : (v == NV - 1 ? _mm256_maskload_ps(C + r * ldc + kLanes * v, tail)
                                       : _mm256_loadu_ps(C + r * ldc + kLanes * v));
  for (size_t k = k0; k < k1; ++k) {
    const float* b = B + k * ldb;
    __m256 bv[NV];
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v)
      bv[v] = v == NV - 1 ? _mm256_maskload_ps(b + kLanes * v, tail) : _mm256_loadu_ps(b + kLanes * v);
CHAARFM_UNROLL
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
CHAARFM_UNROLL
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(a, bv[v], acc[r][v]);
    }
  }
CHAARFM_UNROLL
  for (int r = 0; r < MR; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < NV; ++v) {
      if (v == NV - 1) _mm256_maskstore_ps(C + r * ldc + kLanes * v, tail, acc[r][v]);
      else _mm256_storeu_ps(C + r * ldc + kLanes * v, acc[r][v]);
    }
}

using TileFn = void (*)(const float*, size_t, const float*, size_t, float*, size_t, size_t, size_t, __m256i);

TileFn Pick(int mr, int nv) {
  static const TileFn t[kMr][kNv] = {{Tile<1, 1>, Tile<1, 2>}, {Tile<2, 1>, Tile<2, 2>}, {Tile<3, 1>, Tile<3, 2>},
                                     {Tile<4, 1>, Tile<4, 2>}, {Tile<5, 1>, Tile<5, 2>}, {Tile<6, 1>, Tile<6, 2>}};
  return t[mr - 1][nv - 1];
}

}  // namespace

void gemm_avx2_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M, size_t N,
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
        const __m256i tail = TailMask(cols - (nv - 1) * kLanes);
        Pick(mr, nv)(A + i * lda, lda, B + j, ldb, C + i * ldc + j, ldc, k0, k1, tail);
      }
    }
  }
}

}  // namespace chaarfm
