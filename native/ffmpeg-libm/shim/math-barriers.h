// SPDX-License-Identifier: MIT
// glibc's evaluation barriers, as portable C: the value is computed (and its flags raised).
#pragma once
#define math_opt_barrier(x) ({ __typeof(x) __x = (x); __asm__("" : "+m"(__x)); __x; })
#define math_force_eval(x) do { volatile __typeof(x) __x = (x); (void)__x; } while (0)
