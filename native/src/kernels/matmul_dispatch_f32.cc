// SPDX-License-Identifier: MIT
// gemm_f32's dispatch on CpuIsa() (see matmul_f32.h). No arch flags here.
#include <cstring>

#include "cpu_features.h"
#include "matmul_f32.h"
#if CHAARFM_WASM128
#include "wasm128_f32.h"  // gemm_wasm128_f32 (matmul_wasm128.cc)
#endif

namespace chaarfm {

#if CHAARFM_X86
void gemm_avx2_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M, size_t N,
                   size_t K);  // matmul_avx2.cc
void gemm_avx512_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M,
                     size_t N, size_t K);  // matmul_avx512.cc
#endif
#if CHAARFM_ARM64
void gemm_neon_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M, size_t N,
                   size_t K);  // matmul_neon.cc
#endif

GemmFn gemm_variant_f32(const char* isa) {
  if (!std::strcmp(isa, "generic")) return gemm_ref_f32;
#if CHAARFM_X86
  if (!std::strcmp(isa, "avx2")) return gemm_avx2_f32;
  if (!std::strcmp(isa, "avx512")) return gemm_avx512_f32;
#endif
#if CHAARFM_ARM64
  if (!std::strcmp(isa, "neon")) return gemm_neon_f32;
#endif
#if CHAARFM_WASM128
  if (!std::strcmp(isa, "wasm128")) return gemm_wasm128_f32;
#endif
  return nullptr;
}

namespace {
GemmFn Current() {
  switch (CpuIsa()) {
#if CHAARFM_X86
    case Isa::kAvx512: return gemm_avx512_f32;
    case Isa::kAvx2: return gemm_avx2_f32;
#endif
#if CHAARFM_ARM64
    case Isa::kNeon: return gemm_neon_f32;
#endif
#if CHAARFM_WASM128
    case Isa::kWasm128: return gemm_wasm128_f32;
#endif
    default: return gemm_ref_f32;
  }
}
}  // namespace

const char* gemm_variant_name() {
  const GemmFn f = Current();
  return f == gemm_ref_f32 ? "generic" : IsaName(CpuIsa());
}

void gemm_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M, size_t N,
              size_t K) {
  Current()(A, lda, B, ldb, C, ldc, M, N, K);
}

void gemm_rows_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc, size_t M, size_t N,
                   size_t K, bool fast) {
  if (fast) gemm_f32(A, lda, B, ldb, C, ldc, M, N, K);
  else gemm_ref_f32(A, lda, B, ldb, C, ldc, M, N, K);
}

}  // namespace chaarfm
