// SPDX-License-Identifier: MIT
// The DFT form of the wide convolution (conv_wide_dft.h), written once over an ISA's vector
// type. Included only by conv_dft_<isa>.cc, each with its own flags and a traits struct S:
//   S::V, S::kLanes, Zero(), Load(p), Store(p, v), Bcast(x), Fma(a, b, c) = a*b + c (fused),
//   Fnma(a, b, c) = c - a*b (fused), Add, Sub, Mul, Max, MaxWhere(m, a, mask) = lanes of mask (all
//   ones / 0 words) ? max(a, m) : m, ReduceMax(v), and the blockings kRows (stage A rows) and
//   Pixels(ow) / Channels(ow) (stage B: pixel vectors and channels a block).
// Per call (rows [t0, t1)):
//   forward: the spectrum of every input row the rows need, X[r] = x[r] * forward (one FMA
//     chain per element over the width, in order);
//   for each chunk of 32 channels and each tile of rows:
//     stage A: Y[t][b] = sum_i X[t+i][b] conj(W_i[b]) per channel (FMA chains over i, in order:
//       re += xr*wr, re += xi*wi, im += xi*wr, im -= xr*wi);
//     the radix-2 steps: Y's spectrum -> the spectra of the pixels' residue classes (an add, a
//       subtraction and a fixed twiddle product per value and step);
//     stage B: per class, c[t][q] = sum_m inverse[m][q] D[t][m] with the class's pixels in the
//       lanes (one FMA chain per pixel over m, in order), then bias, Relu, batchnorm and the
//       running max over the valid pixels of every class, and one horizontal max per channel.
// Every element's chains are the same whatever the tile, the chunk or the call, so a row's
// value does not depend on the rows around it.
#pragma once

#include <cfloat>
#include <cstddef>
#include <vector>

#include "conv_f32.h"
#include "conv_wide_dft.h"
#include "cpu_features.h"

namespace chaarfm {
namespace wide_dft {

constexpr size_t kChunk = 32;  // channels a chunk (a multiple of 16, so of every ISA's lanes)

template <class S, int TT>
inline void StageA(const WideDftKernel& k, const float* X, size_t first, size_t oc, size_t cw, float* Y) {
  using V = typename S::V;
  const size_t L = S::kLanes, m = k.m, cp = k.co_pad;
  for (size_t v = 0; v < cw / L; ++v) {
    const size_t o = oc + v * L;
    for (size_t b = 0; b < k.bins; ++b) {
      V re[TT], im[TT];
CHAARFM_UNROLL
      for (int t = 0; t < TT; ++t) { re[t] = S::Zero(); im[t] = S::Zero(); }
      for (size_t i = 0; i < k.kh; ++i) {
        const float* wp = k.weights.data() + (i * m + 2 * b) * cp + o;
        const V wr = S::Load(wp), wi = S::Load(wp + cp);
CHAARFM_UNROLL
        for (int t = 0; t < TT; ++t) {
          const float* xp = X + (first + t + i) * k.m_pad + 2 * b;
          const V xr = S::Bcast(xp[0]), xi = S::Bcast(xp[1]);
          re[t] = S::Fma(xr, wr, re[t]);
          re[t] = S::Fma(xi, wi, re[t]);
          im[t] = S::Fma(xi, wr, im[t]);
          im[t] = S::Fnma(xr, wi, im[t]);
        }
      }
CHAARFM_UNROLL
      for (int t = 0; t < TT; ++t) {
        float* yp = Y + (t * m + 2 * b) * kChunk + v * L;
        S::Store(yp, re[t]);
        S::Store(yp + kChunk, im[t]);
      }
    }
  }
}

// One radix-2 step (WideDftSplit) on one row's class spectra, channels [0, cw) of the chunk:
// in: classes x [2 sp.n_in/2+1 bins][kChunk], out: 2 classes x [2 sp.bins_out][kChunk] (even, odd).
template <class S>
inline void Split(const WideDftSplit& sp, size_t classes, const float* in, size_t cw, float* out) {
  using V = typename S::V;
  const size_t L = S::kLanes, m_in = 2 * (sp.n_in / 2 + 1), m_out = 2 * sp.bins_out, half = sp.n_in / 2;
  for (size_t c = 0; c < classes; ++c) {
    const float* C = in + c * m_in * kChunk;
    float* E = out + 2 * c * m_out * kChunk;
    float* O = E + m_out * kChunk;
    for (size_t b = 0; b < sp.bins_out; ++b) {
      const V cs = S::Bcast(sp.cos[b]), sn = S::Bcast(sp.sin[b]);
      const float* a = C + 2 * b * kChunk;
      const float* m = C + 2 * (half - b) * kChunk;  // conj(C[half - b]) = C[b + half]
      for (size_t v = 0; v < cw; v += L) {
        const V ar = S::Load(a + v), ai = S::Load(a + kChunk + v);
        const V mr = S::Load(m + v), mi = S::Load(m + kChunk + v);
        const V dr = S::Sub(ar, mr), di = S::Add(ai, mi);
        S::Store(E + 2 * b * kChunk + v, S::Add(ar, mr));
        S::Store(E + (2 * b + 1) * kChunk + v, S::Sub(ai, mi));
        S::Store(O + 2 * b * kChunk + v, S::Fnma(di, sn, S::Mul(dr, cs)));
        S::Store(O + (2 * b + 1) * kChunk + v, S::Fma(dr, sn, S::Mul(di, cs)));
      }
    }
  }
}

// Stage B for one row, channels [oc, oc + cw) of the chunk: Yc = the row's class spectra
// (k.classes x [k.sub_m][kChunk]).
template <class S, int F, int C>
inline void StageB(const WideDftKernel& k, const ConvEpilogue& ep, const float* Yc, size_t oc, size_t cw,
                   float* yrow) {
  using V = typename S::V;
  const size_t L = S::kLanes, m = k.sub_m;
  const V zero = S::Zero();
  for (size_t cb = 0; cb < cw; cb += C) {
    V mx[C];
CHAARFM_UNROLL
    for (int c = 0; c < C; ++c) mx[c] = S::Bcast(-FLT_MAX);
    for (size_t r = 0; r < k.classes; ++r) {
      const float* Yr = Yc + r * m * kChunk + cb;
      const unsigned* valid = k.valid.data() + r * k.sub_ow_pad;
      for (size_t f0 = 0; f0 < k.sub_ow; f0 += F * L) {
        V acc[F][C];
CHAARFM_UNROLL
        for (int f = 0; f < F; ++f)
CHAARFM_UNROLL
          for (int c = 0; c < C; ++c) acc[f][c] = S::Zero();
        for (size_t q = 0; q < m; ++q) {
          const float* ip = k.inverse.data() + q * k.sub_ow_pad + f0;
          const float* yp = Yr + q * kChunk;
          V bv[F];
CHAARFM_UNROLL
          for (int f = 0; f < F; ++f) bv[f] = S::Load(ip + f * L);
CHAARFM_UNROLL
          for (int c = 0; c < C; ++c) {
            const V yb = S::Bcast(yp[c]);
CHAARFM_UNROLL
            for (int f = 0; f < F; ++f) acc[f][c] = S::Fma(bv[f], yb, acc[f][c]);
          }
        }
CHAARFM_UNROLL
        for (int c = 0; c < C; ++c) {
          const size_t o = oc + cb + c;
          if (o >= k.co) continue;
          const V bias = S::Bcast(ep.bias ? ep.bias[o] : 0.f);
          const V scale = S::Bcast(ep.bn_scale ? ep.bn_scale[o] : 0.f);
          const V shift = S::Bcast(ep.bn_scale ? ep.bn_shift[o] : 0.f);
CHAARFM_UNROLL
          for (int f = 0; f < F; ++f) {
            V a = acc[f][c];
            if (ep.bias) a = S::Add(a, bias);
            if (ep.relu) a = S::Max(a, zero);
            if (ep.bn_scale) a = S::Add(S::Mul(a, scale), shift);
            mx[c] = S::MaxWhere(mx[c], a, valid + f0 + f * L);
          }
        }
      }
    }
CHAARFM_UNROLL
    for (int c = 0; c < C; ++c)
      if (oc + cb + c < k.co) yrow[oc + cb + c] = S::ReduceMax(mx[c]);
  }
}

template <class S, int F, int C>
void Run(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1, float* y) {
  using V = typename S::V;
  const size_t L = S::kLanes;
  if (t1 <= t0) return;
  const size_t rows_in = t1 - t0 + k.kh - 1;
  // per call, not thread_local (mingw-w64's thread_local destructors: see conv_f32.cc)
  std::vector<float> X(rows_in * k.m_pad), Y(static_cast<size_t>(S::kRows) * k.m * kChunk);
  std::vector<float> ping(k.scratch * kChunk), pong(k.scratch * kChunk);
  for (size_t r = 0; r < rows_in; ++r) {
    const float* xr = x + (t0 + r) * k.width;
    for (size_t v = 0; v < k.m_pad / L; ++v) {
      V acc = S::Zero();
      for (size_t n = 0; n < k.width; ++n) acc = S::Fma(S::Bcast(xr[n]), S::Load(k.forward.data() + n * k.m_pad + v * L), acc);
      S::Store(X.data() + r * k.m_pad + v * L, acc);
    }
  }
  for (size_t oc = 0; oc < k.co_pad; oc += kChunk) {
    const size_t cw = k.co_pad - oc < kChunk ? k.co_pad - oc : kChunk;
    for (size_t tt = t0; tt < t1; tt += S::kRows) {
      const size_t nt = t1 - tt < static_cast<size_t>(S::kRows) ? t1 - tt : static_cast<size_t>(S::kRows);
      if (nt == static_cast<size_t>(S::kRows)) {
        StageA<S, S::kRows>(k, X.data(), tt - t0, oc, cw, Y.data());
      } else {
        for (size_t t = 0; t < nt; ++t) StageA<S, 1>(k, X.data(), tt - t0 + t, oc, cw, Y.data() + t * k.m * kChunk);
      }
      for (size_t t = 0; t < nt; ++t) {
        const float* cur = Y.data() + t * k.m * kChunk;
        size_t classes = 1;
        for (size_t l = 0; l < k.splits.size(); ++l) {
          float* out = (l % 2 == 0 ? ping : pong).data();
          Split<S>(k.splits[l], classes, cur, cw, out);
          cur = out;
          classes *= 2;
        }
        StageB<S, F, C>(k, ep, cur, oc, cw, y + (tt + t) * k.co);
      }
    }
  }
}

// The blocking for the shape: F pixel vectors a block (enough for the valid pixels, at most 4)
// and C channels (S's choice for that F).
template <class S>
void Kernel(const float* x, const WideDftKernel& k, const ConvEpilogue& ep, size_t t0, size_t t1, float* y) {
  const size_t L = S::kLanes;
  if (k.sub_ow > 2 * L) Run<S, 4, S::template Channels<4>()>(x, k, ep, t0, t1, y);
  else if (k.sub_ow > L) Run<S, 2, S::template Channels<2>()>(x, k, ep, t0, t1, y);
  else Run<S, 1, S::template Channels<1>()>(x, k, ep, t0, t1, y);
}

}  // namespace wide_dft
}  // namespace chaarfm
