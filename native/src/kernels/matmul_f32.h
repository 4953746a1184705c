// SPDX-License-Identifier: MIT
// Matrix multiply kernels, row-major float32: C[M,N] = A[M,K] * B[K,N] (C overwritten).
// gemm_ref_f32 is the plain generic kernel, always built: each element is reduced over k in
// increasing order by one accumulator, so a row's value never depends on the rows around it.
// gemm_f32 dispatches to the fast backend chosen at run time (see backend.h); a library GEMM
// may pick other kernels or blockings for other M (OpenBLAS does: small-matrix and M-tail
// paths round differently), so gemm_rows_f32 calls it only with M = kGemmBlockRows, padding a
// short block with zero rows: every row then goes through the same code whatever the
// grouping, which the overlap reuse and the thread split rely on (tested in kernels_test). All functions are thread-safe (no shared state
// except the backend selection, which is set once before use).
#pragma once

#include <cstddef>

namespace chaarfm {

void gemm_ref_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                  size_t M, size_t N, size_t K);

// Fast path: the selected backend (falls back to gemm_ref_f32 when none is available).
void gemm_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
              size_t M, size_t N, size_t K);

// C = A * B computed in blocks of exactly kGemmBlockRows rows (the last one zero-padded).
constexpr size_t kGemmBlockRows = 256;
void gemm_rows_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                   size_t M, size_t N, size_t K, bool fast);

}  // namespace chaarfm
