// SPDX-License-Identifier: MIT
// The per-lane setup shared by the SIMD variants of the sinc dot product (sinc_medium.h): for a
// group of G output samples, where each lane's left and right halves start so that all lanes
// step together and their innermost taps line up. In an anonymous namespace: every unit, compiled
// with its own ISA flags, gets its own copy (no inline function shared across flags).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "audio/sinc_medium.h"

namespace chaarfm {
namespace {

template <int G>
struct SincLanes {
  // step 0 of each half: filter index and sample index of lane k, and the first step at which
  // the lane is active (lanes with fewer taps start later, so the last step is every lane's
  // innermost tap). Left: the index falls by `increment` and the sample rises by 1 each step;
  // right: both fall.
  alignas(64) int32_t fi_l[G], d_l[G], from_l[G], fi_r[G], d_r[G], from_r[G];
  int steps_l = 0, steps_r = 0;    // steps of each half
  int masked_l = 0, masked_r = 0;  // leading steps in which some lane is inactive

  // lanes [0, count) are outputs j0..; the others repeat the last one (computed, not stored)
  void Set(const SincParams& p, const int32_t* center, const int32_t* phase, size_t count) {
    const int32_t inc = p.increment, maxi = p.max_index;
    int32_t n_l[G], m_l[G], n_r[G], m_r[G];
    int min_l = 1 << 30, min_r = 1 << 30;
    steps_l = steps_r = 0;
    for (int k = 0; k < G; k++) {
      const size_t j = std::min<size_t>(static_cast<size_t>(k), count - 1);
      const int32_t sfi = phase[j];
      // left: filter index sfi + m*inc, sample c - m, m = cc .. m_min while the index is >= 0, so
      // one tap more (index 0, sample c + 1) when sfi == inc
      m_l[k] = sfi >= inc ? -1 : 0;
      n_l[k] = (maxi - sfi) / inc - m_l[k] + 1;
      const int32_t r0 = inc - sfi;                   // right: filter index r0 + m*inc, m = cc .. m_min
      m_r[k] = r0 > 0 ? 0 : 1;                        // and the right half then has none at index 0
      const int32_t cc_r = (maxi - r0) / inc;
      n_r[k] = cc_r - m_r[k] + 1;
      steps_l = std::max(steps_l, static_cast<int>(n_l[k]));
      steps_r = std::max(steps_r, static_cast<int>(n_r[k]));
      min_l = std::min(min_l, static_cast<int>(n_l[k]));
      min_r = std::min(min_r, static_cast<int>(n_r[k]));
    }
    masked_l = steps_l - min_l;
    masked_r = steps_r - min_r;
    for (int k = 0; k < G; k++) {
      const size_t j = std::min<size_t>(static_cast<size_t>(k), count - 1);
      const int32_t sfi = phase[j], c = center[j];
      const int32_t l0 = m_l[k] + steps_l - 1;
      fi_l[k] = sfi + l0 * inc;
      d_l[k] = c - l0;
      from_l[k] = steps_l - n_l[k];
      const int32_t m0 = m_r[k] + steps_r - 1;
      fi_r[k] = (inc - sfi) + m0 * inc;
      d_r[k] = c + 1 + m0;
      from_r[k] = steps_r - n_r[k];
    }
  }
};

}  // namespace
}  // namespace chaarfm
