// SPDX-License-Identifier: MIT
// Matrix multiply kernels, row-major float32: C[M,N] = A[M,K] * B[K,N] (C overwritten). Our own
// code, no BLAS library. The contract every variant keeps: each element C[i][j] is ONE
// accumulator reduced over k in increasing order (acc = 0; acc = acc + A[i][k] * B[k][j]),
// whatever the tile it falls in, so a row's value never depends on M, on the rows around it,
// on how the caller groups rows (batch, chunking, threads) or on the tile sizes.
//  - gemm_ref_f32: the plain generic loop (i-k-j; the compiler may vectorise over j, which keeps
//    the order), built without arch flags and with -ffp-contract=off: multiply, round, add.
//    It is both the reference of the tests and the "generic" ISA's GEMM.
//  - gemm_avx2_f32 / gemm_avx512_f32 / gemm_neon_f32 (matmul_<isa>.cc, their own flags):
//    register tiles of up to 6 rows x 2/4/4 vectors, K in blocks of 256 (the partial sums are
//    stored to C and reloaded: exact), the last vector of a row masked; the accumulation is a
//    fused multiply-add, so these differ from generic in the last bits (tested <= 1e-10 NSE)
//    but are bit-identical to themselves for any M/N tiling.
//  - gemm_wasm128_f32 (matmul_wasm128.cc, wasm with -msimd128, see wasm128_f32.h): 4 x 8
//    register blocks, a separate multiply and add per k (WebAssembly SIMD128 has no fused
//    multiply-add), so its results are gemm_ref_f32's bits exactly.
// gemm_f32 picks the variant of CpuIsa() (cpu_features.h, CHAARFM_MAX_ISA) at each call.
// All functions are pure: thread-safe.
#pragma once

#include <cstddef>

namespace chaarfm {

using GemmFn = void (*)(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M,
                        size_t N, size_t K);

void gemm_ref_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                  size_t M, size_t N, size_t K);

// The variant for an ISA (null when it is not built for this architecture); never checks the CPU.
GemmFn gemm_variant_f32(const char* isa);

// Fast path: the variant of CpuIsa().
void gemm_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
              size_t M, size_t N, size_t K);
const char* gemm_variant_name();  // the ISA gemm_f32 uses now

// fast ? gemm_f32 : gemm_ref_f32 (conv2d's and MatMul's switch between the two paths).
void gemm_rows_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                   size_t M, size_t N, size_t K, bool fast);

}  // namespace chaarfm
