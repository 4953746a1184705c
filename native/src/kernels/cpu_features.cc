// SPDX-License-Identifier: MIT
// See cpu_features.h.
#include "cpu_features.h"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#if CHAARFM_X86 && defined(_MSC_VER) && !defined(__clang__)
#include <immintrin.h>
#include <intrin.h>
#endif

namespace chaarfm {

namespace {

Isa Probe() {
#if CHAARFM_X86 && (defined(__GNUC__) || defined(__clang__))
  const bool fma = __builtin_cpu_supports("fma");
  if (fma && __builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (fma && __builtin_cpu_supports("avx2")) return Isa::kAvx2;
  return Isa::kGeneric;
#elif CHAARFM_X86 && defined(_MSC_VER)
  int r[4];
  __cpuid(r, 0);
  const int max_leaf = r[0];
  __cpuid(r, 1);
  const bool fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
  if (!osxsave || !avx || max_leaf < 7) return Isa::kGeneric;
  const unsigned long long xcr0 = _xgetbv(0);
  const bool ymm = (xcr0 & 0x6) == 0x6;            // SSE and AVX state saved by the OS
  const bool zmm = (xcr0 & 0xE6) == 0xE6;          // plus opmask and the upper ZMM state
  __cpuidex(r, 7, 0);
  if (zmm && fma && ((r[1] >> 16) & 1)) return Isa::kAvx512;
  if (ymm && fma && ((r[1] >> 5) & 1)) return Isa::kAvx2;
  return Isa::kGeneric;
#elif CHAARFM_ARM64
  return Isa::kNeon;
#elif CHAARFM_WASM128
  return Isa::kWasm128;
#else
  return Isa::kGeneric;
#endif
}

struct Config {
  Isa best = Isa::kGeneric;
  Isa cap = Isa::kAvx512;  // no cap
  std::string error;
  Config() {
    best = Probe();
    const char* env = std::getenv("CHAARFM_MAX_ISA");
    if (!env || !*env) return;
    std::string v;
    for (const char* p = env; *p; ++p) v += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
    if (v == "avx512") cap = Isa::kAvx512;
    else if (v == "avx2") cap = Isa::kAvx2;
    else if (v == "neon") cap = Isa::kNeon;
    else if (v == "wasm128") cap = Isa::kWasm128;
    else if (v == "generic") cap = Isa::kGeneric;
    else {
      cap = Isa::kGeneric;
      error = "CHAARFM_MAX_ISA='" + std::string(env) + "' is not one of avx512, avx2, neon, wasm128, generic";
      std::fprintf(stderr, "chaarfm: %s; using the generic kernels\n", error.c_str());
    }
  }
};

const Config& Get() {
  static const Config c;
  return c;
}

std::atomic<int> g_test_cap{static_cast<int>(Isa::kAvx512)};

// The cap is an upper bound on a scale of levels that mixes architectures: generic < 128-bit
// SIMD (neon, wasm128) < avx2 < avx512. avx2/avx512 caps leave an arm64 CPU on NEON and a wasm
// build on SIMD128, a neon or wasm128 cap leaves those as they are (the same level) and x86
// generic (it has no 128-bit level of ours), and generic caps everything.
int Level(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return 3;
    case Isa::kAvx2: return 2;
    case Isa::kNeon:
    case Isa::kWasm128: return 1;
    default: return 0;
  }
}
Isa Capped(Isa best, Isa cap) {
  if (Level(best) <= Level(cap)) return best;
  if (Level(best) == 1) return Isa::kGeneric;              // cap is generic
  if (Level(cap) == 1) return Isa::kGeneric;               // x86 has no 128-bit level
  return cap;                                              // x86: avx512 -> avx2 -> generic
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kNeon: return "neon";
    case Isa::kWasm128: return "wasm128";
    default: return "generic";
  }
}

Isa CpuBestIsa() { return Get().best; }

Isa CpuIsa() {
  const Config& c = Get();
  return Capped(Capped(c.best, c.cap), static_cast<Isa>(g_test_cap.load(std::memory_order_relaxed)));
}

const char* CpuIsaError() { return Get().error.empty() ? nullptr : Get().error.c_str(); }

bool CpuHasAvx2Fma() {
  const Isa i = CpuIsa();
  return i == Isa::kAvx2 || i == Isa::kAvx512;
}
bool CpuHasAvx512f() { return CpuIsa() == Isa::kAvx512; }
bool CpuHasNeon() { return CpuIsa() == Isa::kNeon; }
bool CpuHasWasm128() { return CpuIsa() == Isa::kWasm128; }

void SetIsaCapForTesting(Isa cap) { g_test_cap.store(static_cast<int>(cap), std::memory_order_relaxed); }

}  // namespace chaarfm
