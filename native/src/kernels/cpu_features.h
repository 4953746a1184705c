// SPDX-License-Identifier: MIT
// The CPU probe behind the SIMD kernel variants: which instruction sets this CPU (and OS, for
// the AVX register state) can run. GCC/Clang use __builtin_cpu_supports, MSVC cpuid + xgetbv;
// false on every other architecture. Compiled without arch flags. Thread-safe (cached once).
#pragma once

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define CHAARFM_X86 1
#else
#define CHAARFM_X86 0
#endif

// Asks the compiler to unroll the next loop fully (the register-blocked kernels need it to
// keep their accumulator arrays in registers); nothing where the pragma is unknown.
#if defined(__GNUC__)
#define CHAARFM_UNROLL _Pragma("GCC unroll 16")
#else
#define CHAARFM_UNROLL
#endif

namespace chaarfm {

bool CpuHasAvx2Fma();   // AVX2 and FMA3
bool CpuHasAvx512f();   // AVX-512 Foundation (and FMA3)

}  // namespace chaarfm
