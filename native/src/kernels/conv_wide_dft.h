// SPDX-License-Identifier: MIT
// The wide convolution of conv_wide_f32.h (MusiCNN's timbral layers: one input channel, kernel
// [kh, kw, 1, co], VALID, bias, Relu, batchnorm and a max over the whole output width) computed
// through a DFT along the frequency axis instead of tap by tap:
//   c[t][f][o] = sum_i sum_j x[t+i][f+j] w[i][j][o]
//              = IDFT_N( sum_i X_{t+i}[k] conj(W_i[k][o]) )[f]       (N = width, f < width-kw+1)
// The circular correlation of size N equals the linear one at every valid f (f + j < N), so no
// padding is needed. Per output row and channel that is 4 kh (N/2+1) multiply-adds for the
// spectra (stage A) and 2 (N/2+1) per output pixel for the inverse (stage B), against kh kw per
// pixel tap by tap: on 96 bands, 7x38 needs 2.1x fewer multiply-adds, 7x67 3.1x.
// Not the same arithmetic as the direct kernels: within float rounding of them (the tests bound
// the normalised squared error against the generic kernel and a double reference), never their
// bits. Its own guarantees, the same as every kernel's: each output element is the same
// instruction sequence wherever it lies (its row's forward transform, its own FMA chains over
// i and then over the spectrum, in a fixed order), so rows may be split across threads and
// calls freely and a row never depends on its neighbours; and AVX2, AVX-512 and NEON run the
// same chains lane for lane, so they give the same bits as each other.
// The transforms' coefficients are computed once per weight tensor (WideDftPlan) in double with
// a sine/cosine of our own (octant reduction and a Taylor series: the same doubles on every
// IEEE machine, whatever its libm), then rounded to float.
// Variants: AVX-512F and AVX2+FMA (x86), NEON (arm64) in conv_dft_<isa>.cc, one template (conv_wide_dft_impl.h)
// over each ISA's vector type; no generic or wasm128 variant (those keep the direct kernels,
// so the generic engine stays the reference and the SIMD128 module keeps its bits).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "dft_plan.h"

namespace chaarfm {

struct ConvEpilogue;

// One radix-2 step on the inverse side: a spectrum of n_in points (n_in / 2 + 1 bins) becomes
// the spectra of its even and its odd samples (n_in / 2 points each, bins_out bins):
//   E[b] = C[b] + conj(C[n_in/2 - b]),  O[b] = (C[b] - conj(C[n_in/2 - b])) exp(2 pi i b / n_in)
struct WideDftSplit {
  size_t n_in = 0, bins_out = 0;
  std::vector<float> cos, sin;  // [bins_out]: of 2 pi b / n_in
};

// The transforms for one weight tensor and one width. Read-only once built. The max over the
// width does not care in which order the pixels come, so the inverse is split into `classes`
// residue classes of the pixel index (f = classes q + r): each class is an N/classes-point
// inverse of its own spectrum, made from the row's spectrum by log2(classes) radix-2 steps on
// the channel vectors; the pixels of a class fill the lanes of stage B's vectors.
struct WideDftKernel {
  const float* source = nullptr;   // the weights it was made from (checked by WideDftPlan)
  size_t width = 0, kh = 0, kw = 0, co = 0;
  size_t ow = 0;        // width - kw + 1 valid output pixels
  size_t bins = 0;      // N/2 + 1 complex bins
  size_t m = 0;         // 2 bins reals per spectrum: re_0, im_0, re_1, im_1, ...
  size_t m_pad = 0;     // input spectrum row stride: m rounded up to 16
  size_t co_pad = 0;    // co rounded up to 16 (the padded channels have zero weights)
  size_t classes = 1;   // residue classes of the inverse (a power of two dividing N)
  std::vector<WideDftSplit> splits;  // log2(classes) steps
  size_t sub_m = 0;     // reals per class spectrum: 2 (N/classes/2 + 1)
  size_t sub_ow = 0;    // pixels per class: ceil(ow / classes)
  size_t sub_ow_pad = 0;  // sub_ow rounded up to 64 (zero columns)
  size_t scratch = 0;   // reals per channel of the largest step's output (all its classes)
  std::vector<float> forward;   // [width][m_pad]: an input row's spectrum = row x forward
  std::vector<float> weights;   // [kh][m][co_pad]: W_i, the spectrum of kernel row i
  std::vector<float> inverse;   // [sub_m][sub_ow_pad]: class spectrum -> its pixels (1/N, the factor 2 folded in)
  std::vector<unsigned> valid;  // [classes][sub_ow_pad]: all ones where the class's pixel q is < ow, else 0
};

// Builds the transforms (about 10 ms for MusiCNN's timbral layers). w: HWIO [kh][kw][1][co].
std::shared_ptr<const WideDftKernel> PrepareWideDft(const float* w, size_t width, size_t kh, size_t kw, size_t co);

// Owned beside the weights it transforms (the graph executor's fused Conv2D, a timbral branch of
// the overlap reuse): the kernel for the first width it is asked for, remade if it is asked for
// another width or other weights (dft_plan.h: thread-safe, a copy starts empty).
class WideDftPlan : public DftPlan<WideDftKernel> {
 public:
  std::shared_ptr<const WideDftKernel> For(const float* w, size_t width, size_t kh, size_t kw, size_t co) const;
};

// Rows [t0, t1) of the pooled output y[t][co] from input rows x[t1 + kh - 1][width].
using ConvWideDftFn = void (*)(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1,
                               float* y);

// Whether the DFT form does at most 0.6 times the direct kernel's multiply-adds on this shape
// (it runs them less efficiently: transforms, scratch traffic).
bool WideDftPays(size_t width, size_t kh, size_t kw);
// One variant by ISA name ("avx512", "avx2", "neon"): null when not built here; never checks the CPU.
ConvWideDftFn conv_wide_dft_variant_f32(const char* isa);
// The variant for CpuIsa() (capped by CHAARFM_MAX_ISA); null for generic and wasm128.
ConvWideDftFn conv_wide_dft_best_f32();
const char* conv_wide_dft_variant_name();  // "avx512", "avx2", "neon" or "none"

// sin and cos of 2 pi a / n in double, the same bits on every IEEE-754 machine (tests).
void SinCosTurn(size_t a, size_t n, double* s, double* c);

}  // namespace chaarfm
