// SPDX-License-Identifier: MIT
// glibc's sinf, cosf and exp2f for the bundled FFmpeg decoder where the target's C library is
// not glibc (win32, darwin): Opus' CELT decoder calls sinf/cosf (opus_pvq.c's band rotation,
// mdct15.c's twiddles) and exp2f per band, AAC's SBR exp2f, and mingw-w64's libm rounds those
// otherwise than glibc's: the Windows ffmpeg.exe then decoded opus within 6e-8 of Debian's
// ffmpeg, not bit for bit. native/scripts/build-ffmpeg.mjs compiles glibc 2.36's own units
// (sysdeps/ieee754/flt-32: s_sinf.c, s_cosf.c, e_exp2f.c, their data and math_errf.c) from
// Debian's pinned source (native/deps/sources.json "glibc") under chaarfm_ names, twice on x86-64
// as glibc does (plain, and -mfma -mavx2), and this unit picks one at the first call the way glibc's
// ifunc does (sysdeps/x86_64/fpu/multiarch/ifunc-fma.h: the FMA build where the CPU has FMA
// and AVX2 and the OS enables AVX). Nothing of glibc is in this repository.
#include <stdint.h>

#if defined(__x86_64__)
float chaarfm_sinf_sse2(float), chaarfm_sinf_fma(float);
float chaarfm_cosf_sse2(float), chaarfm_cosf_fma(float);
float chaarfm_exp2f_sse2(float), chaarfm_exp2f_fma(float);

static int use_fma(void) {
  static int v = -1;  // a benign race: every thread computes the same value
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
  }
  return v;
}

float chaarfm_sinf(float x) { return use_fma() ? chaarfm_sinf_fma(x) : chaarfm_sinf_sse2(x); }
float chaarfm_cosf(float x) { return use_fma() ? chaarfm_cosf_fma(x) : chaarfm_cosf_sse2(x); }
float chaarfm_exp2f(float x) { return use_fma() ? chaarfm_exp2f_fma(x) : chaarfm_exp2f_sse2(x); }
#endif
