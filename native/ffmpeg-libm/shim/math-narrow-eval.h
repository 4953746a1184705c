// SPDX-License-Identifier: MIT
// FLT_EVAL_METHOD is 0 on x86-64 and arm64: nothing to narrow.
#pragma once
#define math_narrow_eval(x) (x)
