// SPDX-License-Identifier: MIT
// Pooling and reduction kernels (see pool_f32.h). Pure functions, thread-safe.
#include "pool_f32.h"

#include <cstring>

namespace chaarfm {

void maxpool_f32(const float* x, float* y, size_t n, size_t h, size_t w, size_t c, size_t kh,
                 size_t kw, size_t sh, size_t sw, size_t oh, size_t ow) {
  for (size_t b = 0; b < n; ++b)
    for (size_t oy = 0; oy < oh; ++oy)
      for (size_t ox = 0; ox < ow; ++ox) {
        float* out = y + ((b * oh + oy) * ow + ox) * c;
        bool first = true;
        for (size_t ky = 0; ky < kh; ++ky)
          for (size_t kx = 0; kx < kw; ++kx) {
            const float* in = x + ((b * h + oy * sh + ky) * w + ox * sw + kx) * c;
            if (first) {
              std::memcpy(out, in, c * sizeof(float));
              first = false;
            } else {
              for (size_t ch = 0; ch < c; ++ch) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
            }
          }
      }
}

void reduce_max_f32(const float* x, float* y, size_t outer, size_t red, size_t inner) {
  for (size_t o = 0; o < outer; ++o) {
    float* out = y + o * inner;
    const float* in = x + o * red * inner;
    std::memcpy(out, in, inner * sizeof(float));
    for (size_t r = 1; r < red; ++r)
      for (size_t i = 0; i < inner; ++i) {
        const float v = in[r * inner + i];
        out[i] = v > out[i] ? v : out[i];
      }
  }
}

void reduce_mean_f32(const float* x, float* y, size_t outer, size_t red, size_t inner) {
  for (size_t o = 0; o < outer; ++o) {
    float* out = y + o * inner;
    const float* in = x + o * red * inner;
    std::memset(out, 0, inner * sizeof(float));
    for (size_t r = 0; r < red; ++r)
      for (size_t i = 0; i < inner; ++i) out[i] += in[r * inner + i];
    const float d = static_cast<float>(red);
    for (size_t i = 0; i < inner; ++i) out[i] = out[i] / d;
  }
}

}  // namespace chaarfm
