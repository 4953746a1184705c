// SPDX-License-Identifier: MIT
// The SIMD128 kernel family (wasm builds only, added to chaarfm_engine_test by
// native/wasm/CMakeLists.txt): each kernel against its generic counterpart, BIT FOR BIT (same
// operations in the same order), on the MusiCNN shapes and on shapes that hit every tail
// (row/column remainders of the GEMM, widths that are not a multiple of 16, channel counts that
// leave 1..7 channels, a last pixel block that overlaps the one before), split row ranges, and
// through the dispatch (conv2d_f32 and gemm_f32 took these kernels).
#include <cstring>
#include <vector>

#include "../src/kernels/backend.h"
#include "../src/kernels/conv_f32.h"
#include "../src/kernels/conv_tall_f32.h"
#include "../src/kernels/conv_wide_f32.h"
#include "../src/kernels/matmul_f32.h"
#include "../src/kernels/wasm128_f32.h"
#include "test_util.h"

using namespace chaarfm;
using namespace chaarfm::test;

namespace {

ConvEpilogue Epilogue(size_t co, uint32_t seed, std::vector<float>* bias, std::vector<float>* scale,
                      std::vector<float>* shift) {
  *bias = Random(co, seed, -0.5f, 0.5f);
  *scale = Random(co, seed + 1, 0.5f, 1.5f);
  *shift = Random(co, seed + 2, -0.3f, 0.3f);
  ConvEpilogue ep;
  ep.bias = bias->data();
  ep.relu = true;
  ep.bn_scale = scale->data();
  ep.bn_shift = shift->data();
  ep.pool_width = true;
  return ep;
}

}  // namespace

TEST(wasm128_gemm_bit_equal_to_reference) {
  CHECK(std::strcmp(FastBackendName(), "wasm simd128") == 0);
  // MusiCNN's GEMMs (conv2d_5..7, dense) and tails: M % 4 = 1..3, N % 8 = 4 or 1..3
  const size_t shapes[][3] = {{187, 64, 3927}, {187, 64, 448}, {1, 200, 1506}, {37, 51, 128}, {6, 13, 9},
                              {3, 4, 1},      {5, 7, 2},      {9, 12, 17}};
  for (auto& sh : shapes) {
    const size_t M = sh[0], N = sh[1], K = sh[2];
    auto A = Random(M * K, 41, -1.f, 1.f), B = Random(K * N, 42, -0.5f, 0.5f);
    std::vector<float> ref(M * N), simd(M * N, 7.f), fast(M * N, 7.f), rows(M * N, 7.f);
    gemm_ref_f32(A.data(), K, B.data(), N, ref.data(), N, M, N, K);
    gemm_wasm128_f32(A.data(), K, B.data(), N, simd.data(), N, M, N, K);
    gemm_f32(A.data(), K, B.data(), N, fast.data(), N, M, N, K);
    gemm_rows_f32(A.data(), K, B.data(), N, rows.data(), N, M, N, K, true);
    CHECK_MSG(BitEqual(simd, ref), "M=" << M << " N=" << N << " K=" << K << " nse=" << Nse(simd, ref));
    CHECK(BitEqual(fast, ref));
    CHECK(BitEqual(rows, ref));
  }
}

TEST(wasm128_conv_tall_bit_equal_to_generic) {
  const size_t shapes[][3] = {{96, 128, 51}, {96, 64, 51}, {96, 32, 51}, {40, 9, 7}, {24, 5, 3}, {4, 3, 2}};
  for (auto& sh : shapes) {
    const size_t W = sh[0], kh = sh[1], co = sh[2], T = 29, th = T + kh - 1;
    auto xpad = Random(th * W, 51, -1.f, 4.f), w = Random(kh * co, 52, -0.2f, 0.2f);
    std::vector<float> bias, scale, shift;
    const ConvEpilogue ep = Epilogue(co, 53, &bias, &scale, &shift);
    ConvTallFn fn = conv_tall_wasm128_f32(W, co);
    CHECK_MSG(fn != nullptr, "W=" << W);
    if (!fn) continue;
    CHECK(conv_tall_pool_best_f32(W, co) == fn);
    CHECK(std::strcmp(conv_tall_variant_name(W, co), "wasm128") == 0);
    std::vector<float> gen(T * co), simd(T * co), part(T * co);
    conv_tall_pool_generic_f32(xpad.data(), W, w.data(), kh, co, ep, 0, T, gen.data());
    fn(xpad.data(), W, w.data(), kh, co, ep, 0, T, simd.data());
    fn(xpad.data(), W, w.data(), kh, co, ep, 0, 10, part.data());
    fn(xpad.data(), W, w.data(), kh, co, ep, 10, T, part.data());
    CHECK_MSG(BitEqual(simd, gen), "W=" << W << " kh=" << kh << " co=" << co << " nse=" << Nse(simd, gen));
    CHECK(BitEqual(part, gen));
  }
  CHECK(conv_tall_wasm128_f32(30, 4) == nullptr);  // width not a multiple of 4: generic
}

TEST(wasm128_conv_wide_bit_equal_to_generic) {
  const size_t shapes[][4] = {{96, 38, 204, 7}, {96, 67, 204, 7}, {40, 9, 7, 3}, {29, 5, 33, 5},
                              {50, 3, 17, 1},   {9, 6, 12, 2},    {8, 5, 5, 1}};
  for (auto& sh : shapes) {
    const size_t W = sh[0], kw = sh[1], co = sh[2], kh = sh[3], T = 11, H = T + kh - 1, OW = W - kw + 1;
    auto x = Random(H * W, 61, -2.f, 4.f), w = Random(kh * kw * co, 62, -0.2f, 0.2f);
    std::vector<float> bias, scale, shift;
    const ConvEpilogue ep = Epilogue(co, 63, &bias, &scale, &shift);
    ConvWideFn fn = conv_wide_wasm128_f32(W, kw, co);
    CHECK_MSG(fn != nullptr, "W=" << W << " kw=" << kw);
    if (!fn) continue;
    CHECK(conv_wide_pool_best_f32(W, kw, co) == fn);
    std::vector<float> gen(T * co), simd(T * co), part(T * co);
    conv_wide_pool_generic_f32(x.data(), W, w.data(), kh, kw, co, ep, 0, T, gen.data());
    fn(x.data(), W, w.data(), kh, kw, co, ep, 0, T, simd.data());
    fn(x.data(), W, w.data(), kh, kw, co, ep, 0, 4, part.data());
    fn(x.data(), W, w.data(), kh, kw, co, ep, 4, T, part.data());
    CHECK_MSG(BitEqual(simd, gen), "W=" << W << " kw=" << kw << " co=" << co << " nse=" << Nse(simd, gen));
    CHECK(BitEqual(part, gen));
    // through conv2d_f32: the dispatch took the SIMD kernel and gives the im2col + reference bits
    Conv2DShape s{1, H, W, 1, kh, kw, co, 0, 0, T, OW};
    std::vector<float> viaconv(T * co), viaref(T * co);
    conv2d_f32(x.data(), w.data(), viaconv.data(), s, nullptr, true, &ep);
    conv2d_f32(x.data(), w.data(), viaref.data(), s, nullptr, false, &ep);
    CHECK(BitEqual(viaconv, gen));
    CHECK_MSG(BitEqual(viaref, gen), "im2col + reference GEMM vs generic direct, W=" << W << " kw=" << kw);
  }
  CHECK(conv_wide_wasm128_f32(6, 4, 8) == nullptr);  // fewer output pixels than a block
}
