// SPDX-License-Identifier: MIT
// The SRC_SINC_MEDIUM_QUALITY filter table, compiled from libsamplerate's own
// src/mid_qual_coeffs.h (the pinned 0.2.2 source, or the copy an npm package carries; see
// native/cmake/audio.cmake: the build puts that folder on this unit's include path). The header
// defines `slow_mid_qual_coeffs` of `coeff_t`, which src_sinc.c typedefs to float, exactly as here,
// so each decimal literal becomes the same float the library holds.
#include <cstddef>
#include <vector>

#include "audio/sinc_medium.h"

namespace chaarfm {
namespace {

typedef float coeff_t;
#include "mid_qual_coeffs.h"

// Zero pairs after the table: the masked lanes of the SIMD kernels may look up to two
// increments (at most 2 * 491 entries) past the last tap before their result is discarded.
constexpr int kPadPairs = 1024;

struct Table {
  std::vector<float> pairs;
  SincTable t;
  Table() {
    const int len = static_cast<int>(sizeof(slow_mid_qual_coeffs.coeffs) / sizeof(slow_mid_qual_coeffs.coeffs[0]));
    const int n = len - 1;  // pair i needs c[i + 1]; the library's largest index is len - 2
    pairs.assign(2 * static_cast<size_t>(n + kPadPairs), 0.f);
    for (int i = 0; i < n; i++) {
      const float c0 = slow_mid_qual_coeffs.coeffs[i], c1 = slow_mid_qual_coeffs.coeffs[i + 1];
      pairs[2 * i] = c0;
      pairs[2 * i + 1] = c1 - c0;  // float - float, as `coeffs[indx + 1] - coeffs[indx]` in src_sinc.c
    }
    t.pairs = pairs.data();
    t.size = n + kPadPairs;
    t.half_len = len - 2;  // coeff_half_len = ARRAY_LEN (coeffs) - 2
    t.index_inc = slow_mid_qual_coeffs.increment;
  }
};

}  // namespace

const SincTable& SincMediumTable() {
  static const Table table;
  return table.t;
}

}  // namespace chaarfm
