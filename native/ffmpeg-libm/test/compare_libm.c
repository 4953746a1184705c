// SPDX-License-Identifier: MIT
// Compares chaarfm_sinf, chaarfm_cosf and chaarfm_exp2f (glibc's, built from its pinned source
// by native/scripts/glibc-libm.mjs) with the C library's sinf, cosf and exp2f, bit for bit, on
// every STRIDE-th float bit pattern (1: all 2^32) and on the arguments FFmpeg's Opus decoder
// gives them. With a variant name (x86-64: sse2 or fma) that build instead of the dispatching
// one. Prints one line per function; exits 1 when any result differs (NaNs compare as NaNs).
//   compare_libm STRIDE [sse2|fma]
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

float chaarfm_sinf(float), chaarfm_cosf(float), chaarfm_exp2f(float);
#if defined(__x86_64__)
float chaarfm_sinf_sse2(float), chaarfm_cosf_sse2(float), chaarfm_exp2f_sse2(float);
float chaarfm_sinf_fma(float), chaarfm_cosf_fma(float), chaarfm_exp2f_fma(float);
#endif

typedef float (*Fn)(float);

// The arguments on which glibc 2.36's plain and FMA builds of sinf and cosf differ (all of them,
// found over all 2^32 floats on 2026-12-02; exp2f has none): always compared, so each build is
// checked where it differs from the other (x86-64: and it is checked that they do).
static const uint32_t kSinfSplit[] = {
    0x4255b0a9, 0x42a35c07, 0x42a35d44, 0x42a97360, 0x42cf5854, 0x42e87a55, 0xc255b0a9, 0xc2a35c07,
    0xc2a35d44, 0xc2a97360, 0xc2cf5854, 0xc2e87a55,
};
static const uint32_t kCosfSplit[] = {
    0x418a3adb, 0x418a3adc, 0x418a3add, 0x418a3ade, 0x41bc76d9, 0x4202eb4b, 0x42687a55, 0x4280ce28,
    0x42870e40, 0x42c55faa, 0x42d8d23e, 0xc18a3adb, 0xc18a3adc, 0xc18a3add, 0xc18a3ade, 0xc1bc76d9,
    0xc202eb4b, 0xc2687a55, 0xc280ce28, 0xc2870e40, 0xc2c55faa, 0xc2d8d23e,
};

static int same(float a, float b) {
  if (isnan(a) && isnan(b)) return 1;
  return memcmp(&a, &b, sizeof a) == 0;
}

int main(int argc, char** argv) {
  const uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
  const char* variant = argc > 2 ? argv[2] : "";
  Fn ours[3] = {chaarfm_sinf, chaarfm_cosf, chaarfm_exp2f};
#if defined(__x86_64__)
  if (!strcmp(variant, "sse2")) ours[0] = chaarfm_sinf_sse2, ours[1] = chaarfm_cosf_sse2, ours[2] = chaarfm_exp2f_sse2;
  if (!strcmp(variant, "fma")) ours[0] = chaarfm_sinf_fma, ours[1] = chaarfm_cosf_fma, ours[2] = chaarfm_exp2f_fma;
#endif
  if (stride == 0 || (*variant && ours[0] == chaarfm_sinf)) {
    fprintf(stderr, "usage: compare_libm STRIDE [sse2|fma]\n");
    return 2;
  }
  Fn libc[3] = {sinf, cosf, exp2f};
  const char* names[3] = {"sinf", "cosf", "exp2f"};
  int bad = 0;
  for (int f = 0; f < 3; ++f) {
    uint64_t n = 0, differ = 0;
    uint32_t first = 0;
    for (uint64_t u = 0; u < (1ull << 32); u += stride) {
      const uint32_t b = (uint32_t)u;
      float x;
      memcpy(&x, &b, sizeof x);
      volatile float xv = x;  // no folding: each call at run time
      const float want = libc[f](xv), got = ours[f](xv);
      n++;
      if (!same(want, got) && differ++ == 0) first = b;
    }
    const uint32_t* split = f == 0 ? kSinfSplit : f == 1 ? kCosfSplit : NULL;
    const size_t nsplit = f == 0 ? sizeof kSinfSplit / 4 : f == 1 ? sizeof kCosfSplit / 4 : 0;
    for (size_t i = 0; i < nsplit; ++i) {
      float x;
      memcpy(&x, &split[i], sizeof x);
      n++;
      if (!same(libc[f](x), ours[f](x)) && differ++ == 0) first = split[i];
#if defined(__x86_64__)
      Fn sse2 = f == 0 ? chaarfm_sinf_sse2 : chaarfm_cosf_sse2, fma = f == 0 ? chaarfm_sinf_fma : chaarfm_cosf_fma;
      if (same(sse2(x), fma(x))) {
        printf("%s: the plain and FMA builds agree on 0x%08x, which glibc's do not\n", names[f], split[i]);
        bad = 1;
      }
#endif
    }
    // Opus: mdct15's twiddles (2 pi (i + 1/8) / len, pi/5) and the band rotation's angles
    for (int len = 15; len <= 15 * 64; len *= 2)
      for (int i = 0; i < len; ++i) {
        const float x = (float)(2.0 * M_PI * (i + 0.125) / len);
        n++;
        if (!same(libc[f](x), ours[f](x)) && differ++ == 0) memcpy(&first, &x, 4);
      }
    printf("%s%s%s: %llu of %llu arguments differ from the C library's", names[f], *variant ? "_" : "", variant,
           (unsigned long long)differ, (unsigned long long)n);
    if (differ) printf(" (first 0x%08x)", first);
    printf("\n");
    bad |= differ != 0;
  }
  return bad;
}
