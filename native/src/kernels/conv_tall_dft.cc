// SPDX-License-Identifier: MIT
// The FFT form of the tall convolution: its coefficients and the dispatch (see conv_tall_dft.h).
// No arch flags here; the kernels are in conv_dft_<isa>.cc.
#include "conv_tall_dft.h"

#include <cstring>

#include "conv_wide_dft.h"
#include "cpu_features.h"

namespace chaarfm {

#if CHAARFM_X86
TallDftFns conv_tall_dft_avx512_fns();  // conv_dft_avx512.cc
TallDftFns conv_tall_dft_avx2_fns();    // conv_dft_avx2.cc
#endif
#if CHAARFM_ARM64
TallDftFns conv_tall_dft_neon_fns();    // conv_dft_neon.cc
#endif

namespace {

// The shortest power of two (at least 4) that no wrapped tap of a SAME convolution reaches a sample.
size_t TransformLength(size_t rows, size_t kh, size_t pad_top) {
  const size_t after = kh - 1 >= pad_top ? kh - 1 - pad_top : 0;
  const size_t need = rows + (pad_top > after ? pad_top : after);
  size_t n = 4;
  while (n < need) n *= 2;
  return n;
}

}  // namespace

std::shared_ptr<const TallDftKernel> PrepareTallDft(const float* w, size_t width, size_t rows, size_t kh, size_t co,
                                                    size_t pad_top) {
  auto k = std::make_shared<TallDftKernel>();
  k->source = w;
  k->width = width; k->rows = rows; k->kh = kh; k->co = co; k->pad_top = pad_top;
  k->width_pad = (width + 15) / 16 * 16;
  k->valid.assign(k->width_pad, 0u);
  for (size_t f = 0; f < width; ++f) k->valid[f] = ~0u;
  const size_t N = TransformLength(rows, kh, pad_top), H = N / 2;
  k->n = N;
  k->half = H;
  while ((size_t{1} << k->log2_half) < H) ++k->log2_half;
  k->bitrev.resize(H);
  for (size_t j = 0; j < H; ++j) {
    size_t r = 0;
    for (size_t b = 0; b < k->log2_half; ++b) r |= ((j >> b) & 1) << (k->log2_half - 1 - b);
    k->bitrev[j] = static_cast<unsigned>(r);
  }
  for (size_t j = 0; j < H / 2; ++j) {
    double s, c;
    SinCosTurn(j, H, &s, &c);
    k->fft_cos.push_back(static_cast<float>(c));
    k->fft_sin.push_back(static_cast<float>(s));
    k->fft_nsin.push_back(static_cast<float>(-s));
  }
  for (size_t j = 0; j <= H; ++j) {
    double s, c;
    SinCosTurn(j, N, &s, &c);
    k->pack_cos.push_back(static_cast<float>(c));
    k->pack_sin.push_back(static_cast<float>(s));
  }
  // W_o[b] = sum_i w[i][o] exp(-2 pi i b d_i / N), d_i = (i - p) mod N, over 2 N
  k->w_re.assign((H + 1) * co, 0.f);
  k->w_im.assign((H + 1) * co, 0.f);
  std::vector<double> re(co), im(co);
  const double scale = 1.0 / (2.0 * static_cast<double>(N));
  for (size_t b = 0; b <= H; ++b) {
    std::fill(re.begin(), re.end(), 0.0);
    std::fill(im.begin(), im.end(), 0.0);
    for (size_t i = 0; i < kh; ++i) {
      const size_t d = (i + N - pad_top % N) % N;
      double s, c;
      SinCosTurn((b * d) % N, N, &s, &c);
      for (size_t o = 0; o < co; ++o) {
        re[o] += static_cast<double>(w[i * co + o]) * c;
        im[o] -= static_cast<double>(w[i * co + o]) * s;
      }
    }
    for (size_t o = 0; o < co; ++o) {
      k->w_re[b * co + o] = static_cast<float>(re[o] * scale);
      k->w_im[b * co + o] = static_cast<float>(im[o] * scale);
    }
  }
  return k;
}

std::shared_ptr<const TallDftKernel> TallDftPlan::For(const float* w, size_t width, size_t rows, size_t kh, size_t co,
                                                      size_t pad_top) const {
  return Get(
      [&](const TallDftKernel& k) {
        return k.source == w && k.width == width && k.rows == rows && k.kh == kh && k.co == co && k.pad_top == pad_top;
      },
      [&] { return PrepareTallDft(w, width, rows, kh, co, pad_top); });
}

size_t TallDftSpectraSize(const TallDftKernel& k) { return (k.half + 1) * 2 * k.width_pad; }

bool TallDftPays(size_t rows, size_t kh) {
  if (kh < 2 || rows == 0) return false;
  const size_t N = TransformLength(rows, kh, (kh - 1) / 2), H = N / 2;
  size_t lg = 0;
  while ((size_t{1} << lg) < H) ++lg;
  // operations per output channel and column: the spectra, the packing, the inverse, the epilogue
  const size_t fft = 4 * (H + 1) + 8 * H + 4 * H * lg + 5 * rows, direct = rows * kh;
  return 10 * fft <= 6 * direct;
}

TallDftFns conv_tall_dft_variant_f32(const char* isa) {
#if CHAARFM_X86
  if (!std::strcmp(isa, "avx512")) return conv_tall_dft_avx512_fns();
  if (!std::strcmp(isa, "avx2")) return conv_tall_dft_avx2_fns();
#endif
#if CHAARFM_ARM64
  if (!std::strcmp(isa, "neon")) return conv_tall_dft_neon_fns();
#endif
  (void)isa;
  return {};
}

TallDftFns conv_tall_dft_best_f32() {
  const char* name = conv_wide_dft_variant_name();  // the same ISAs have both forms
  return std::strcmp(name, "none") ? conv_tall_dft_variant_f32(name) : TallDftFns{};
}

}  // namespace chaarfm
