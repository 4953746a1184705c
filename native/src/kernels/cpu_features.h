// SPDX-License-Identifier: MIT
// The CPU probe behind the SIMD kernel variants: which instruction set the kernels may use on
// this CPU (and OS, for the AVX register state), capped by the environment variable
// CHAARFM_MAX_ISA (as oneDNN's ONEDNN_MAX_CPU_ISA caps its dispatch):
//   avx512 | avx2 | neon | wasm128 | generic   (case-insensitive; unset or empty: no cap)
// The cap lowers the choice, never raises it (avx512 on an AVX2-only CPU gives avx2). It is a
// level: generic < 128-bit SIMD (neon, wasm128) < avx2 < avx512; x86 has no 128-bit level of
// ours, so a neon or wasm128 cap leaves it generic. An
// invalid value caps to generic and is reported: CpuIsaError() returns the message (the addon
// refuses to load with it, the engine test exits with it) and it is printed once on stderr.
// Every dispatching caller (conv_tall, conv_wide, the GEMM, the resampler) asks these
// functions, so the cap holds for all of them. GCC/Clang use __builtin_cpu_supports, MSVC
// cpuid + xgetbv; arm64 always has NEON (AdvSIMD is part of the base ISA); a WebAssembly
// build has SIMD128 when it is compiled with -msimd128 (the engine refuses to instantiate on a
// runtime without it, so there is nothing to probe). Compiled without arch flags (the wasm
// build's -msimd128 applies to every unit, which only defines __wasm_simd128__ here). Thread-safe (probed once; the test override is an atomic).
#pragma once

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define CHAARFM_X86 1
#else
#define CHAARFM_X86 0
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define CHAARFM_ARM64 1
#else
#define CHAARFM_ARM64 0
#endif
#if defined(__wasm_simd128__)
#define CHAARFM_WASM128 1
#else
#define CHAARFM_WASM128 0
#endif

// Asks the compiler to unroll the next loop fully (the register-blocked kernels need it to
// keep their accumulator arrays in registers); nothing where the pragma is unknown.
#if defined(__GNUC__)
#define CHAARFM_UNROLL _Pragma("GCC unroll 16")
#else
#define CHAARFM_UNROLL
#endif

namespace chaarfm {

// Ordered within one architecture: a higher value may use everything below it (kNeon and
// kWasm128 are the same level on different architectures; see the cap above).
enum class Isa { kGeneric = 0, kNeon = 1, kAvx2 = 2, kAvx512 = 3, kWasm128 = 4 };

const char* IsaName(Isa isa);       // "generic", "neon", "avx2", "avx512", "wasm128"
Isa CpuBestIsa();                   // what the CPU can run, ignoring the cap
Isa CpuIsa();                       // what the kernels use: the best, capped by CHAARFM_MAX_ISA
const char* CpuIsaError();          // null, or why CHAARFM_MAX_ISA was not understood

bool CpuHasAvx2Fma();   // AVX2 and FMA3, and the cap allows avx2
bool CpuHasAvx512f();   // AVX-512 Foundation (and FMA3), and the cap allows avx512
bool CpuHasNeon();      // arm64 AdvSIMD, and the cap allows neon
bool CpuHasWasm128();   // a -msimd128 WebAssembly build, and the cap allows wasm128

// Tests and benches only: lower the cap further for this process (Isa::kAvx512 = back to the
// environment's cap). Call between engine runs, never while one runs; kernels already chosen
// by a running engine keep their choice.
void SetIsaCapForTesting(Isa cap);

}  // namespace chaarfm
