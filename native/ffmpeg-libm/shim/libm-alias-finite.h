// SPDX-License-Identifier: MIT
// glibc's __*_finite aliases: none here.
#pragma once
#define libm_alias_finite(from, to)
