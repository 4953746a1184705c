// SPDX-License-Identifier: MIT
// The FFT form of the tall convolution (conv_tall_dft.h), written once over an ISA's vector type
// (the traits S of conv_wide_dft_impl.h). Included only by conv_dft_<isa>.cc. Columns are the
// lanes; every operation below is lane-wise, in a fixed order, so a column's values do not depend
// on the lanes around it, and a channel's on the channel range of its call.
//   Forward (per image): z[j] = x[2j] + i x[2j+1] in bit-reversed order, an in-place radix-2
//     FFT of n/2 points, then the real spectrum X'[b] = 2 X[b], b <= n/2.
//   Per channel: Y[b] = X'[b] conj(W[b]) (W over 2n), the inverse packing
//     Z[b] = E[b] + i O[b], E = Y[b] + conj(Y[n/2-b]), O = (Y[b] - conj(Y[n/2-b])) exp(2 pi i b/n),
//     in bit-reversed order, the inverse FFT of n/2 points: y[2j] = Re, y[2j+1] = Im; then bias,
//     Relu, batchnorm and the running max over the columns, one horizontal max per row.
#pragma once

#include <cfloat>
#include <cstddef>
#include <cstring>
#include <vector>

#include "conv_f32.h"
#include "conv_tall_dft.h"
#include "cpu_features.h"

namespace chaarfm {
namespace tall_dft {

// In-place radix-2 decimation-in-time FFT of k.half points on bit-reversed input; re/im:
// [half][kLanes]; sn: fft_sin (inverse) or fft_nsin (forward).
template <class S>
inline void Fft(const TallDftKernel& k, const float* sn, float* re, float* im) {
  using V = typename S::V;
  const size_t L = S::kLanes, H = k.half;
  for (size_t len = 2; len <= H; len *= 2) {
    const size_t hl = len / 2, step = H / len;
    for (size_t s = 0; s < H; s += len) {
      for (size_t j = 0; j < hl; ++j) {
        float* ar = re + (s + j) * L;
        float* ai = im + (s + j) * L;
        float* br = re + (s + j + hl) * L;
        float* bi = im + (s + j + hl) * L;
        const V xr = S::Load(ar), xi = S::Load(ai), yr = S::Load(br), yi = S::Load(bi);
        V tr, ti;
        if (j == 0) {
          tr = yr;
          ti = yi;
        } else {
          const V c = S::Bcast(k.fft_cos[j * step]), d = S::Bcast(sn[j * step]);
          tr = S::Fnma(yi, d, S::Mul(yr, c));
          ti = S::Fma(yr, d, S::Mul(yi, c));
        }
        S::Store(ar, S::Add(xr, tr));
        S::Store(ai, S::Add(xi, ti));
        S::Store(br, S::Sub(xr, tr));
        S::Store(bi, S::Sub(xi, ti));
      }
    }
  }
}

// Row t's columns [c0, c0 + kLanes) of x[rows][width], zeros past the width or the rows.
template <class S>
inline typename S::V LoadColumns(const float* x, const TallDftKernel& k, size_t t, size_t c0) {
  if (t >= k.rows || c0 >= k.width) return S::Zero();  // width_pad may hold whole vectors past the width
  const float* p = x + t * k.width + c0;
  if (c0 + S::kLanes <= k.width) return S::Load(p);
  float tmp[S::kLanes] = {};
  std::memcpy(tmp, p, (k.width - c0) * sizeof(float));
  return S::Load(tmp);
}

template <class S>
void Forward(const float* x, const TallDftKernel& k, float* spectra) {
  using V = typename S::V;
  const size_t L = S::kLanes, H = k.half, wp = k.width_pad;
  std::vector<float> re(H * L), im(H * L);
  for (size_t c0 = 0; c0 < wp; c0 += L) {
    for (size_t j = 0; j < H; ++j) {
      S::Store(re.data() + k.bitrev[j] * L, LoadColumns<S>(x, k, 2 * j, c0));
      S::Store(im.data() + k.bitrev[j] * L, LoadColumns<S>(x, k, 2 * j + 1, c0));
    }
    Fft<S>(k, k.fft_nsin.data(), re.data(), im.data());
    for (size_t b = 0; b <= H; ++b) {
      const size_t p = b % H, q = (H - b) % H;
      const V zr = S::Load(re.data() + p * L), zi = S::Load(im.data() + p * L);
      const V mr = S::Load(re.data() + q * L), mi = S::Load(im.data() + q * L);  // conj: (mr, -mi)
      const V ar = S::Add(zr, mr), ai = S::Sub(zi, mi), dr = S::Sub(zr, mr), di = S::Add(zi, mi);
      const V c = S::Bcast(k.pack_cos[b]), s = S::Bcast(k.pack_sin[b]);
      const V xr = S::Fnma(s, dr, S::Fma(c, di, ar));
      const V xi = S::Fnma(s, di, S::Fnma(c, dr, ai));
      S::Store(spectra + (2 * b) * wp + c0, xr);
      S::Store(spectra + (2 * b + 1) * wp + c0, xi);
    }
  }
}

template <class S>
void Channels(const float* spectra, const TallDftKernel& k, const ConvEpilogue& ep, size_t o0, size_t o1, float* y) {
  using V = typename S::V;
  const size_t L = S::kLanes, H = k.half, wp = k.width_pad, co = k.co;
  std::vector<float> re(H * L), im(H * L), mx(k.rows * L);
  const V zero = S::Zero();
  for (size_t o = o0; o < o1; ++o) {
    for (size_t t = 0; t < k.rows; ++t) S::Store(mx.data() + t * L, S::Bcast(-FLT_MAX));
    const V bias = S::Bcast(ep.bias ? ep.bias[o] : 0.f);
    const V scale = S::Bcast(ep.bn_scale ? ep.bn_scale[o] : 0.f);
    const V shift = S::Bcast(ep.bn_scale ? ep.bn_shift[o] : 0.f);
    for (size_t c0 = 0; c0 < wp; c0 += L) {
      // Y[b] = X'[b] conj(W[b])
      auto spectrum = [&](size_t b, V* yr, V* yi) {
        const V xr = S::Load(spectra + (2 * b) * wp + c0), xi = S::Load(spectra + (2 * b + 1) * wp + c0);
        const V wr = S::Bcast(k.w_re[b * co + o]), wi = S::Bcast(k.w_im[b * co + o]);
        *yr = S::Fma(xi, wi, S::Mul(xr, wr));
        *yi = S::Fnma(xr, wi, S::Mul(xi, wr));
      };
      // Z[b] from Y[b] and Y[H - b], stored bit-reversed
      auto pack = [&](size_t b, V ykr, V yki, V ymr, V ymi) {
        const V er = S::Add(ykr, ymr), ei = S::Sub(yki, ymi), dr = S::Sub(ykr, ymr), di = S::Add(yki, ymi);
        const V c = S::Bcast(k.pack_cos[b]), s = S::Bcast(k.pack_sin[b]);
        const V orr = S::Fnma(di, s, S::Mul(dr, c)), oi = S::Fma(dr, s, S::Mul(di, c));
        S::Store(re.data() + k.bitrev[b] * L, S::Sub(er, oi));
        S::Store(im.data() + k.bitrev[b] * L, S::Add(ei, orr));
      };
      for (size_t b = 0; 2 * b <= H; ++b) {
        V ykr, yki, ymr, ymi;
        spectrum(b, &ykr, &yki);
        spectrum(H - b, &ymr, &ymi);
        pack(b, ykr, yki, ymr, ymi);
        if (b != 0 && 2 * b != H) pack(H - b, ymr, ymi, ykr, yki);
      }
      Fft<S>(k, k.fft_sin.data(), re.data(), im.data());
      const unsigned* valid = k.valid.data() + c0;
      auto fold = [&](size_t t, V a) {
        if (ep.bias) a = S::Add(a, bias);
        if (ep.relu) a = S::Max(a, zero);
        if (ep.bn_scale) a = S::Add(S::Mul(a, scale), shift);
        float* m = mx.data() + t * L;
        S::Store(m, S::MaxWhere(S::Load(m), a, valid));
      };
      for (size_t j = 0; 2 * j < k.rows; ++j) {
        fold(2 * j, S::Load(re.data() + j * L));
        if (2 * j + 1 < k.rows) fold(2 * j + 1, S::Load(im.data() + j * L));
      }
    }
    for (size_t t = 0; t < k.rows; ++t) y[t * co + o] = S::ReduceMax(S::Load(mx.data() + t * L));
  }
}

template <class S>
TallDftFns Fns() {
  TallDftFns f;
  f.forward = Forward<S>;
  f.channels = Channels<S>;
  return f;
}

}  // namespace tall_dft
}  // namespace chaarfm
