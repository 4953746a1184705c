// SPDX-License-Identifier: MIT
// glibc-internal header that glibc's math_config.h includes; nothing of it is used by the units
// built here (native/ffmpeg-libm/shim/glibc-shim.h).
#pragma once
