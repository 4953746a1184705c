// SPDX-License-Identifier: MIT
// The WebAssembly SIMD128 kernel family (built only for wasm with -msimd128; Isa::kWasm128 of
// the dispatch on CpuIsa(), cpu_features.h; CHAARFM_MAX_ISA=generic caps it to generic). Every kernel does the generic kernel's
// float operations in the generic kernel's order (a separate multiply and add per tap, k or tap
// order increasing, one accumulator per output element), so its results are the generic
// build's bits exactly; the vectors only run several output elements side by side. At most
// 8 accumulators a block: V8 keeps one of the 16 xmm registers for itself. Pure: thread-safe.
//
// The relaxed-SIMD build (native/wasm, -DCHAARFM_WASM_RELAXED=ON: prebuilds/wasm/
// chaarfm-engine-relaxed.wasm) compiles the same kernels with each acc + a * b as one
// f32x4.relaxed_madd, which the runtime fuses where the CPU has FMA (V8 on x64 with FMA3, arm64)
// and rounds twice where it does not: those bits are not generic's (within 1e-5 of them, tested)
// and may differ between CPUs, but are the same across threads, batch, chunking and runs.
#pragma once

#include <cstddef>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#include "conv_tall_f32.h"
#include "conv_wide_f32.h"

namespace chaarfm {

#if defined(__wasm_simd128__)
// True in the relaxed-SIMD build (its kernels fuse where the runtime does).
constexpr bool kWasmRelaxedFma =
#if defined(CHAARFM_WASM_RELAXED)
    true;
#else
    false;
#endif

// acc + a * b (defined where the kernels are compiled: in the relaxed build only they get
// -mrelaxed-simd, native/cmake/engine.cmake). Clang 14 spells f32x4.relaxed_madd as the
// prototype __builtin_wasm_fma_f32x4 and emits the prototype opcode, which
// native/scripts/wasm-relaxed-opcodes.mjs re-encodes after the link to the final
// relaxed_madd(x, y, z) = x * y + z: the operands are given in that order.
#if !defined(CHAARFM_WASM_RELAXED) || defined(__wasm_relaxed_simd__)
inline v128_t MulAddWasm(v128_t acc, v128_t a, v128_t b) {
#if defined(CHAARFM_WASM_RELAXED)
  return __builtin_wasm_fma_f32x4(a, b, acc);
#else
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
#endif
}
#endif
#endif

// C[M,N] = A[M,K] * B[K,N], row-major, 4 x 8 register blocks; any M, N, K; bit-equal to
// gemm_ref_f32 and position-independent (no padding of short row blocks needed).
void gemm_wasm128_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                      size_t M, size_t N, size_t K);
// null: a shape the kernel does not take (the generic kernel or im2col + GEMM then runs)
ConvTallFn conv_tall_wasm128_f32(size_t width, size_t co);
ConvWideFn conv_wide_wasm128_f32(size_t width, size_t kw, size_t co);

}  // namespace chaarfm
