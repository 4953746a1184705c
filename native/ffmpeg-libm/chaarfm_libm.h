// SPDX-License-Identifier: MIT
// Force-included (-include) into every FFmpeg unit of a target whose C library is not glibc
// (native/scripts/build-ffmpeg.mjs): its decoders call glibc's sinf, cosf and exp2f, built from
// glibc's source (chaarfm_libm.c and the units listed there), not the C library's.
#pragma once
#define sinf chaarfm_sinf
#define cosf chaarfm_cosf
#define exp2f chaarfm_exp2f
