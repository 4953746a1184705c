// SPDX-License-Identifier: MIT
// glibc's symbol aliases: none here (each function is built under one chaarfm_ name).
#pragma once
#define libm_alias_float(from, to)
#define libm_alias_float_other(from, to)
#define strong_alias(name, alias)
#define versioned_symbol(lib, local, symbol, version)
