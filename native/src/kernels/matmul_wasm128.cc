// SPDX-License-Identifier: MIT
// SIMD128 GEMM (see wasm128_f32.h): blocks of 4 rows x 8 columns (two vectors), 8 accumulators;
// per k it loads two vectors of B and broadcasts four values of A. Row and column tails use
// narrower blocks of the same shape of computation: c = 0, then c = c + a[k] * b[k] for k
// increasing, exactly gemm_ref_f32's order. Built with -msimd128; thread-safe (pure).
#include <wasm_simd128.h>

#include "cpu_features.h"
#include "wasm128_f32.h"

namespace chaarfm {

namespace {

// Rows [i, i + R) x columns [j, j + 4 V) of C.
template <int R, int V>
inline void Block(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t K, size_t i,
                  size_t j) {
  v128_t acc[R][V];
CHAARFM_UNROLL
  for (int r = 0; r < R; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < V; ++v) acc[r][v] = wasm_f32x4_splat(0.f);
  const float* a = A + i * lda;
  const float* b = B + j;
  for (size_t k = 0; k < K; ++k, b += ldb) {
    v128_t bv[V];
CHAARFM_UNROLL
    for (int v = 0; v < V; ++v) bv[v] = wasm_v128_load(b + 4 * v);
CHAARFM_UNROLL
    for (int r = 0; r < R; ++r) {
      const v128_t av = wasm_v128_load32_splat(a + r * lda + k);
CHAARFM_UNROLL
      for (int v = 0; v < V; ++v) acc[r][v] = MulAddWasm(acc[r][v], av, bv[v]);
    }
  }
CHAARFM_UNROLL
  for (int r = 0; r < R; ++r)
CHAARFM_UNROLL
    for (int v = 0; v < V; ++v) wasm_v128_store(C + (i + r) * ldc + j + 4 * v, acc[r][v]);
}

// The last N % 4 columns, one element at a time (gemm_ref_f32's loop for those columns).
inline void ScalarColumns(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M,
                          size_t K, size_t j0, size_t N) {
  for (size_t i = 0; i < M; ++i)
    for (size_t j = j0; j < N; ++j) {
      float c = 0.f;
      for (size_t k = 0; k < K; ++k) c += A[i * lda + k] * B[k * ldb + j];
      C[i * ldc + j] = c;
    }
}

template <int R>
inline void Rows(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t K, size_t i,
                 size_t N4) {
  size_t j = 0;
  for (; j + 8 <= N4; j += 8) Block<R, 2>(A, lda, B, ldb, C, ldc, K, i, j);
  for (; j < N4; j += 4) Block<R, 1>(A, lda, B, ldb, C, ldc, K, i, j);
}

}  // namespace

void gemm_wasm128_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M,
                      size_t N, size_t K) {
  const size_t N4 = N & ~static_cast<size_t>(3);
  size_t i = 0;
  for (; i + 4 <= M; i += 4) Rows<4>(A, lda, B, ldb, C, ldc, K, i, N4);
  for (; i < M; ++i) Rows<1>(A, lda, B, ldb, C, ldc, K, i, N4);
  if (N4 < N) ScalarColumns(A, lda, B, ldb, C, ldc, M, K, N4, N);
}

}  // namespace chaarfm
