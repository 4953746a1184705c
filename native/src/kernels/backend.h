// SPDX-License-Identifier: MIT
// Kernel backend selection: the generic reference kernels, or the optimized library linked in
// at build time (OpenBLAS: its DYNAMIC_ARCH build probes the CPU at load and picks the
// Haswell/SkylakeX/... kernels, so one binary is fast on AVX2 and AVX-512 and correct on
// plain x86-64). SetKernelBackend is not thread-safe: call it before running any engine.
#pragma once

namespace chaarfm {

enum class KernelBackend { kReference, kFast };

void SetKernelBackend(KernelBackend b);
KernelBackend GetKernelBackend();
bool FastBackendAvailable();
const char* FastBackendName();  // "openblas <corename>" or "none"

}  // namespace chaarfm
