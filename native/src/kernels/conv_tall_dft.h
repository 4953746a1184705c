// SPDX-License-Identifier: MIT
// The tall convolution of conv_tall_f32.h (MusiCNN's temporal layers: one input channel, kernel
// [kh, 1, 1, co] along time, SAME zero padding pad_top = (kh - 1) / 2, bias, Relu, batchnorm and a
// max over the whole width) computed through an FFT along the time axis, for a whole image:
//   c[t][f][o] = sum_i x[t + i - p][f] w[i][o] = IFFT_N( X_f[k] conj(W_o[k]) )[t]
// where W_o is the spectrum of the kernel placed at (i - p) mod N and N, a power of two, is at
// least T + max(p, kh - 1 - p), so that no wrapped tap reaches a nonzero sample. The real
// transforms of N points run as complex ones of N/2 points (the even and odd samples packed as
// real and imaginary parts), radix 2, in place, with the columns f in the lanes: no shuffles.
// Per column and channel that is about 4 (N/2 + 1) multiply-adds for the spectra and
// 5 N log2(N/2) / 2 for the inverse, against T kh tap by tap: on MusiCNN's 187-frame patches
// (N = 256), about 4x fewer operations for 128 taps, 2x for 64; 32 taps stay direct.
// Not the direct kernels' arithmetic: within float rounding of them (tests: normalised squared
// error against the generic kernel and a double reference), never their bits. Each output
// element is the same instruction sequence whatever the channel range or thread of its call,
// and AVX2, AVX-512 and NEON run the same sequences lane for lane (the same bits apart from the
// sign of a zero maximum). Coefficients are computed once per weight tensor (TallDftPlan) in
// double with SinCosTurn (conv_wide_dft.h), then rounded to float.
// Variants: AVX-512F, AVX2+FMA, NEON (conv_dft_<isa>.cc, one template: conv_tall_dft_impl.h).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "dft_plan.h"

namespace chaarfm {

struct ConvEpilogue;

struct TallDftKernel {
  const float* source = nullptr;  // the weights it was made from (checked by TallDftPlan)
  size_t width = 0, rows = 0, kh = 0, co = 0, pad_top = 0;  // the image is [rows][width], output [rows][co]
  size_t width_pad = 0;  // width rounded up to 16 (the spectra's row stride)
  std::vector<unsigned> valid;  // [width_pad]: all ones for the real columns, 0 after (lane masks)
  size_t n = 0;        // transform length, a power of two
  size_t half = 0;     // n / 2: the complex transforms' length
  size_t log2_half = 0;
  std::vector<unsigned> bitrev;   // [half]: log2_half-bit reversal
  std::vector<float> fft_cos, fft_sin, fft_nsin;  // [half / 2]: cos, sin, -sin of 2 pi j / half
  std::vector<float> pack_cos, pack_sin;  // [half + 1]: cos, sin of 2 pi k / n
  std::vector<float> w_re, w_im;  // [half + 1][co]: W_o[k] / (2 n) (the packing's factor 2 and 1/n folded in)
};

std::shared_ptr<const TallDftKernel> PrepareTallDft(const float* w, size_t width, size_t rows, size_t kh, size_t co,
                                                    size_t pad_top);

// As WideDftPlan (conv_wide_dft.h), for a tall kernel: made on first use, remade for other
// weights or another image shape (dft_plan.h).
class TallDftPlan : public DftPlan<TallDftKernel> {
 public:
  std::shared_ptr<const TallDftKernel> For(const float* w, size_t width, size_t rows, size_t kh, size_t co,
                                           size_t pad_top) const;
};

// The spectra of one image x[rows][width] (all columns): X[k][re/im][width_pad], k <= n/2, in
// `spectra` (TallDftSpectraSize floats). Then channels [o0, o1) of y[rows][co] from them.
size_t TallDftSpectraSize(const TallDftKernel& k);
using TallDftForwardFn = void (*)(const float* x, const TallDftKernel& k, float* spectra);
using TallDftChannelsFn = void (*)(const float* spectra, const TallDftKernel& k, const ConvEpilogue& ep, size_t o0,
                                   size_t o1, float* y);
struct TallDftFns {
  TallDftForwardFn forward = nullptr;
  TallDftChannelsFn channels = nullptr;
};

// Whether the FFT form does at most 0.6 times the direct kernel's operations on this shape.
bool TallDftPays(size_t rows, size_t kh);
// One variant by ISA name ("avx512", "avx2", "neon"): empty when not built here; never checks the CPU.
TallDftFns conv_tall_dft_variant_f32(const char* isa);
// The variant for CpuIsa() (capped by CHAARFM_MAX_ISA); empty for generic and wasm128.
TallDftFns conv_tall_dft_best_f32();

}  // namespace chaarfm
