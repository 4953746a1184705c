// SPDX-License-Identifier: MIT
// gemm_f32 dispatch and the OpenBLAS backend (compiled in when CHAARFM_WITH_OPENBLAS is set).
// OpenBLAS is kept single-threaded; the engine splits rows across its own pool, and OpenBLAS
// calls from several threads at once are safe in its pthread build. Thread-safe after setup.
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "backend.h"
#include "matmul_f32.h"
#if defined(__wasm_simd128__)  // wasm: the SIMD128 GEMM is the fast backend (wasm128_f32.h)
#include "wasm128_f32.h"
#define CHAARFM_WITH_WASM128 1
#endif

#ifdef CHAARFM_WITH_OPENBLAS
extern "C" {
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc);
void openblas_set_num_threads(int n);
char* openblas_get_corename(void);
}
#endif

namespace chaarfm {

namespace {
std::atomic<KernelBackend> g_backend{FastBackendAvailable() ? KernelBackend::kFast
                                                            : KernelBackend::kReference};
#ifdef CHAARFM_WITH_OPENBLAS
struct OpenBlasInit {
  OpenBlasInit() { openblas_set_num_threads(1); }
};
void EnsureOpenBlas() { static OpenBlasInit once; }
#endif
}  // namespace

bool FastBackendAvailable() {
#if defined(CHAARFM_WITH_OPENBLAS) || defined(CHAARFM_WITH_WASM128)
  return true;
#else
  return false;
#endif
}

const char* FastBackendName() {
#ifdef CHAARFM_WITH_OPENBLAS
  EnsureOpenBlas();
  static const std::string name = std::string("openblas ") + openblas_get_corename();
  return name.c_str();
#elif defined(CHAARFM_WITH_WASM128)
  return "wasm simd128";
#else
  return "none";
#endif
}

void SetKernelBackend(KernelBackend b) {
  g_backend = FastBackendAvailable() ? b : KernelBackend::kReference;
}
KernelBackend GetKernelBackend() { return g_backend; }

void gemm_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
              size_t M, size_t N, size_t K) {
#ifdef CHAARFM_WITH_OPENBLAS
  if (g_backend == KernelBackend::kFast) {
    EnsureOpenBlas();
    // 101 = CblasRowMajor, 111 = CblasNoTrans
    cblas_sgemm(101, 111, 111, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), 1.f, A,
                static_cast<int>(lda), B, static_cast<int>(ldb), 0.f, C, static_cast<int>(ldc));
    return;
  }
#elif defined(CHAARFM_WITH_WASM128)
  if (g_backend == KernelBackend::kFast) return gemm_wasm128_f32(A, lda, B, ldb, C, ldc, M, N, K);
#endif
  gemm_ref_f32(A, lda, B, ldb, C, ldc, M, N, K);
}

void gemm_rows_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                   size_t M, size_t N, size_t K, bool fast) {
  if (!fast || g_backend != KernelBackend::kFast) {
    gemm_ref_f32(A, lda, B, ldb, C, ldc, M, N, K);
    return;
  }
#if defined(CHAARFM_WITH_WASM128)  // position-independent for every M: no padded blocks
  return gemm_f32(A, lda, B, ldb, C, ldc, M, N, K);
#endif
  size_t r = 0;
  for (; r + kGemmBlockRows <= M; r += kGemmBlockRows)
    gemm_f32(A + r * lda, lda, B, ldb, C + r * ldc, ldc, kGemmBlockRows, N, K);
  if (r == M) return;
  thread_local std::vector<float> a, c;
  const size_t rows = M - r;
  a.assign(kGemmBlockRows * K, 0.f);
  c.resize(kGemmBlockRows * N);
  for (size_t i = 0; i < rows; ++i) std::memcpy(&a[i * K], A + (r + i) * lda, K * sizeof(float));
  gemm_f32(a.data(), K, B, ldb, c.data(), N, kGemmBlockRows, N, K);
  for (size_t i = 0; i < rows; ++i) std::memcpy(C + (r + i) * ldc, &c[i * N], N * sizeof(float));
}

}  // namespace chaarfm
