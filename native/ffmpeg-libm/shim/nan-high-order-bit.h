// SPDX-License-Identifier: MIT
// As glibc's for x86 and arm: a quiet NaN has the high-order mantissa bit set.
#pragma once
#define HIGH_ORDER_BIT_IS_SET_FOR_SNAN 0
