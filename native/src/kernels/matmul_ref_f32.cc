// SPDX-License-Identifier: MIT
// Generic reference GEMM: plain C++, built without arch flags; thread-safe (pure function).
// Loop order i-k-j keeps each C element's k order sequential, so it is position-independent.
#include <cstring>

#include "matmul_f32.h"

namespace chaarfm {

void gemm_ref_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                  size_t M, size_t N, size_t K) {
  for (size_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    std::memset(c, 0, N * sizeof(float));
    const float* a = A + i * lda;
    for (size_t k = 0; k < K; ++k) {
      const float av = a[k];
      const float* b = B + k * ldb;
      for (size_t j = 0; j < N; ++j) c[j] += av * b[j];
    }
  }
}

}  // namespace chaarfm
