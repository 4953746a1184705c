// SPDX-License-Identifier: MIT
// 2-D convolution, NHWC input, HWIO weights, stride 1, dilation 1, zero padding given
// explicitly (VALID = 0, SAME = computed by the caller). Implemented as im2col over fixed
// chunks of output rows + GEMM: chunk boundaries do not depend on the thread count, and each
// output element is computed the same way wherever it lies (see matmul_f32.h).
// Thread-safe: the pool may be shared only by one caller at a time.
#pragma once

#include <cstddef>

namespace chaarfm {

class ThreadPool;
class WideDftPlan;
class TallDftPlan;

struct Conv2DShape {
  size_t n, h, w, c;        // input
  size_t kh, kw, co;        // kernel (HWIO: kh, kw, c, co)
  size_t pad_top, pad_left; // zeros before; output size below decides the zeros after
  size_t oh, ow;            // output
};

// Output pixels per im2col chunk: whole output rows, about 768 pixels (three GEMM blocks).
// Depends only on the layer shape, never on threads, so every pixel is computed alike.
inline size_t ConvChunkRows(size_t ow) { return ow >= 768 ? ow : ow * (768 / ow); }

// Applied to each chunk of output rows right after its GEMM, while it is in cache; the same
// float operations, in the same order, as separate BiasAdd, Relu and batchnorm kernels.
struct ConvEpilogue {
  const float* bias = nullptr;      // y += bias[co]
  bool relu = false;                // y = max(y, 0)
  const float* bn_scale = nullptr;  // y = y * scale[co] + shift[co]
  const float* bn_shift = nullptr;
  // Max over the whole output width (MaxPool window [1, ow]): then y is [n][oh][co] and the
  // un-pooled rows never leave the cache. Same comparisons, same order, as maxpool_f32.
  bool pool_width = false;
  // The DFT form of the wide kernel (conv_wide_dft.h) for these weights, where it pays on the
  // shape and CpuIsa() has a variant; null: the direct kernels only.
  const WideDftPlan* dft = nullptr;
  // The FFT form of the tall kernel (conv_tall_dft.h), likewise.
  const TallDftPlan* tall_dft = nullptr;
};

// A fused MaxPool as the graph has it: window == stride == [1, pool_w] (0: none).
struct ConvPool {
  size_t pool_w = 0;
};

// im2col of output pixels [row0, row0+rows) into col[rows][kh*kw*c].
void im2col_f32(const float* x, const Conv2DShape& s, size_t row0, size_t rows, float* col);

// y[n*oh*ow][co] = conv(x, w); fast = use gemm_f32 (the selected backend), else gemm_ref_f32.
void conv2d_f32(const float* x, const float* w, float* y, const Conv2DShape& s, ThreadPool* pool,
                bool fast = true, const ConvEpilogue* ep = nullptr);

}  // namespace chaarfm
