// SPDX-License-Identifier: MIT
// See cpu_features.h.
#include "cpu_features.h"

#if CHAARFM_X86 && defined(_MSC_VER) && !defined(__clang__)
#include <immintrin.h>
#include <intrin.h>
#endif

namespace chaarfm {

namespace {

struct Features {
  bool avx2_fma = false, avx512f = false;
  Features() {
#if CHAARFM_X86 && (defined(__GNUC__) || defined(__clang__))
    avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    avx512f = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#elif CHAARFM_X86 && defined(_MSC_VER)
    int r[4];
    __cpuid(r, 0);
    const int max_leaf = r[0];
    __cpuid(r, 1);
    const bool fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
    if (!osxsave || !avx || max_leaf < 7) return;
    const unsigned long long xcr0 = _xgetbv(0);
    const bool ymm = (xcr0 & 0x6) == 0x6;            // SSE and AVX state saved by the OS
    const bool zmm = (xcr0 & 0xE6) == 0xE6;          // plus opmask and the upper ZMM state
    __cpuidex(r, 7, 0);
    avx2_fma = ymm && fma && ((r[1] >> 5) & 1);
    avx512f = zmm && fma && ((r[1] >> 16) & 1);
#endif
  }
};

const Features& Get() {
  static const Features f;
  return f;
}

}  // namespace

bool CpuHasAvx2Fma() { return Get().avx2_fma; }
bool CpuHasAvx512f() { return Get().avx512f; }

}  // namespace chaarfm
