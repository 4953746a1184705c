// SPDX-License-Identifier: MIT
// conv2d_f32 by im2col + GEMM (see conv_f32.h). Thread-safe as documented there.
#include "conv_f32.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "batchnorm_f32.h"
#include "conv_tall_dft.h"
#include "conv_tall_f32.h"
#include "conv_wide_dft.h"
#include "conv_wide_f32.h"
#include "elementwise_f32.h"
#include "matmul_f32.h"
#include "pool_f32.h"
#include "parallel.h"

namespace chaarfm {

void im2col_f32(const float* x, const Conv2DShape& s, size_t row0, size_t rows, float* col) {
  const size_t K = s.kh * s.kw * s.c;
  const size_t span = s.kw * s.c;
  for (size_t r = 0; r < rows; ++r) {
    const size_t p = row0 + r;
    const size_t n = p / (s.oh * s.ow);
    const size_t oy = (p / s.ow) % s.oh;
    const size_t ox = p % s.ow;
    float* dst = col + r * K;
    for (size_t ky = 0; ky < s.kh; ++ky, dst += span) {
      const long iy = static_cast<long>(oy + ky) - static_cast<long>(s.pad_top);
      if (iy < 0 || iy >= static_cast<long>(s.h)) {
        std::memset(dst, 0, span * sizeof(float));
        continue;
      }
      const float* src = x + (n * s.h + static_cast<size_t>(iy)) * s.w * s.c;
      const long ix0 = static_cast<long>(ox) - static_cast<long>(s.pad_left);
      if (ix0 >= 0 && ix0 + static_cast<long>(s.kw) <= static_cast<long>(s.w)) {
        std::memcpy(dst, src + static_cast<size_t>(ix0) * s.c, span * sizeof(float));
        continue;
      }
      for (size_t kx = 0; kx < s.kw; ++kx) {
        const long ix = ix0 + static_cast<long>(kx);
        float* d = dst + kx * s.c;
        if (ix < 0 || ix >= static_cast<long>(s.w)) std::memset(d, 0, s.c * sizeof(float));
        else std::memcpy(d, src + static_cast<size_t>(ix) * s.c, s.c * sizeof(float));
      }
    }
  }
}

namespace {
// Tall one-channel kernels (kw = 1, c = 1, the temporal convolutions): a time-major padded
// copy of the input per image, so an im2col row is one contiguous run of kh values.
void TransposePadded(const float* x, const Conv2DShape& s, std::vector<float>* xt) {
  const size_t th = s.oh + s.kh - 1;  // padded time length
  xt->assign(s.n * s.w * th, 0.f);
  for (size_t n = 0; n < s.n; ++n)
    for (size_t t = 0; t < s.h; ++t) {
      const long tp = static_cast<long>(t + s.pad_top);
      if (tp >= static_cast<long>(th)) continue;
      const float* src = x + (n * s.h + t) * s.w;
      float* dst = xt->data() + n * s.w * th + static_cast<size_t>(tp);
      for (size_t f = 0; f < s.w; ++f) dst[f * th] = src[f];
    }
}

// task(i) for every i < count: on the pool, or in order on this thread without one.
template <class F>
void RunTasks(ThreadPool* pool, size_t count, const F& task) {
  if (pool) pool->ParallelFor(count, task);
  else for (size_t i = 0; i < count; ++i) task(i);
}

// fn(image, t0, t1) for every fixed block of `block` output rows of every image: the blocks
// depend only on the shape, never on the thread count.
template <class F>
void ForRowBlocks(ThreadPool* pool, size_t images, size_t rows, size_t block, const F& fn) {
  const size_t blocks = (rows + block - 1) / block;
  RunTasks(pool, images * blocks, [&](size_t i) {
    const size_t t0 = (i % blocks) * block;
    fn(i / blocks, t0, std::min(t0 + block, rows));
  });
}

}  // namespace

void conv2d_f32(const float* x, const float* w, float* y, const Conv2DShape& s, ThreadPool* pool,
                bool fast, const ConvEpilogue* ep) {
  const size_t total = s.n * s.oh * s.ow;
  const size_t K = s.kh * s.kw * s.c;
  const size_t chunk_rows = ConvChunkRows(s.ow);
  const size_t chunks = (total + chunk_rows - 1) / chunk_rows;
  const bool tall = s.kw == 1 && s.c == 1 && s.ow == s.w && s.pad_left == 0 && s.kh > 1;
  if (fast && tall && ep && ep->pool_width && ep->tall_dft && s.oh == s.h && TallDftPays(s.h, s.kh)) {
    const TallDftFns fns = conv_tall_dft_best_f32();
    if (fns.forward) {
      // the FFT form: each image's spectra, then fixed groups of 8 channels (never by thread count)
      const std::shared_ptr<const TallDftKernel> k = ep->tall_dft->For(w, s.w, s.h, s.kh, s.co, s.pad_top);
      const size_t size = TallDftSpectraSize(*k), groups = (s.co + 7) / 8;
      std::vector<float> spectra(s.n * size);
      RunTasks(pool, s.n, [&](size_t n) { fns.forward(x + n * s.h * s.w, *k, spectra.data() + n * size); });
      RunTasks(pool, s.n * groups, [&](size_t i) {
        const size_t n = i / groups, o0 = (i % groups) * 8;
        fns.channels(spectra.data() + n * size, *k, *ep, o0, std::min(o0 + 8, s.co), y + n * s.oh * s.co);
      });
      return;
    }
  }
  if (fast && tall && ep && ep->pool_width) {
    if (ConvTallFn fn = conv_tall_pool_best_f32(s.w, s.co)) {
      // direct SIMD kernel: time-padded copy per image, fixed blocks of 24 output rows
      const size_t th = s.oh + s.kh - 1;
      std::vector<float> xpad(s.n * th * s.w, 0.f);
      for (size_t n = 0; n < s.n; ++n)
        for (size_t t = 0; t < s.h; ++t)
          if (t + s.pad_top < th)
            std::memcpy(&xpad[(n * th + t + s.pad_top) * s.w], x + (n * s.h + t) * s.w, s.w * sizeof(float));
      ForRowBlocks(pool, s.n, s.oh, 24, [&](size_t n, size_t t0, size_t t1) {
        fn(&xpad[n * th * s.w], s.w, w, s.kh, s.co, *ep, t0, t1, y + n * s.oh * s.co);
      });
      return;
    }
  }
  const bool wide = s.c == 1 && s.kw > 1 && s.pad_top == 0 && s.pad_left == 0 && s.oh + s.kh - 1 == s.h &&
                    s.ow + s.kw - 1 == s.w;
  if (fast && wide && ep && ep->pool_width && ep->dft && WideDftPays(s.w, s.kh, s.kw)) {
    if (ConvWideDftFn fn = conv_wide_dft_best_f32()) {
      const std::shared_ptr<const WideDftKernel> k = ep->dft->For(w, s.w, s.kh, s.kw, s.co);
      ForRowBlocks(pool, s.n, s.oh, 8, [&](size_t n, size_t t0, size_t t1) {
        fn(x + n * s.h * s.w, *k, *ep, t0, t1, y + n * s.oh * s.co);
      });
      return;
    }
  }
  if (fast && wide && ep && ep->pool_width) {
    if (ConvWideFn fn = conv_wide_pool_best_f32(s.w, s.kw, s.co)) {
      // direct SIMD kernel on the input as it is, fixed blocks of 8 output rows
      ForRowBlocks(pool, s.n, s.oh, 8, [&](size_t n, size_t t0, size_t t1) {
        fn(x + n * s.h * s.w, s.w, w, s.kh, s.kw, s.co, *ep, t0, t1, y + n * s.oh * s.co);
      });
      return;
    }
  }
  std::vector<float> xt;
  if (tall) TransposePadded(x, s, &xt);
  const size_t th = s.oh + s.kh - 1;
  auto task = [&](size_t ci) {
    // per task, not thread_local: mingw-w64's thread_local objects with a destructor (emutls)
    // crashed node.exe under Wine at thread exit, in this vector's destructor (2026-12-02)
    std::vector<float> col, unpooled;
    const size_t row0 = ci * chunk_rows;
    const size_t rows = row0 + chunk_rows <= total ? chunk_rows : total - row0;
    const bool direct = s.kh == 1 && s.kw == 1 && s.pad_top == 0 && s.pad_left == 0 &&
                        s.oh == s.h && s.ow == s.w;
    const float* a = x + row0 * s.c;
    if (!direct) {
      if (col.size() < rows * K) col.resize(rows * K);
      if (tall) {
        for (size_t r = 0; r < rows; ++r) {
          const size_t p = row0 + r, n = p / (s.oh * s.ow), oy = (p / s.ow) % s.oh, f = p % s.ow;
          std::memcpy(&col[r * K], xt.data() + (n * s.w + f) * th + oy, K * sizeof(float));
        }
      } else {
        im2col_f32(x, s, row0, rows, col.data());
      }
      a = col.data();
    }
    const bool pool = ep && ep->pool_width;
    if (pool && unpooled.size() < rows * s.co) unpooled.resize(rows * s.co);
    float* c = pool ? unpooled.data() : y + row0 * s.co;
    gemm_rows_f32(a, K, w, s.co, c, s.co, rows, s.co, K, fast);
    if (ep) {
      if (ep->bias) bias_add_f32(c, ep->bias, c, rows, s.co);
      if (ep->relu) relu_f32(c, c, rows * s.co);
      if (ep->bn_scale) batchnorm_f32(c, c, rows, s.co, ep->bn_scale, ep->bn_shift);
      if (pool) maxpool_f32(c, y + (row0 / s.ow) * s.co, 1, rows / s.ow, s.ow, s.co, 1, s.ow, 1, s.ow, rows / s.ow, 1);
    }
  };
  RunTasks(pool, chunks, task);
}

}  // namespace chaarfm
