// SPDX-License-Identifier: MIT
// Force-included (-include) into each glibc math unit that native/scripts/build-ffmpeg.mjs
// compiles from glibc's pinned source (sysdeps/ieee754/flt-32): what glibc's own build would
// define, and a chaarfm_ name for every external symbol, so nothing clashes with the target's
// C library (mingw-w64's, Apple's) in the static link.
#pragma once
#define attribute_hidden
#ifndef __glibc_likely
#define __glibc_likely(x) __builtin_expect(!!(x), 1)
#define __glibc_unlikely(x) __builtin_expect(!!(x), 0)
#endif
#define __sincosf_table chaarfm_sincosf_table
#define __inv_pio4 chaarfm_inv_pio4
#define __exp2f_data chaarfm_exp2f_data
#define __math_oflowf chaarfm_math_oflowf
#define __math_uflowf chaarfm_math_uflowf
#define __math_may_uflowf chaarfm_math_may_uflowf
#define __math_divzerof chaarfm_math_divzerof
#define __math_invalidf chaarfm_math_invalidf
