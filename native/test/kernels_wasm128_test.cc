// SPDX-License-Identifier: MIT
// The SIMD128 kernel family (wasm builds only, added to chaarfm_engine_test by
// native/wasm/CMakeLists.txt): each kernel against its generic counterpart, BIT FOR BIT (same
// operations in the same order), on the MusiCNN shapes and on shapes that hit every tail
// (row/column remainders of the GEMM, widths that are not a multiple of 16, channel counts that
// leave 1..7 channels, a last pixel block that overlaps the one before), split row ranges, and
// through the dispatch (CpuIsa() is wasm128; conv2d_f32 and gemm_f32 took these kernels).
// In the relaxed-SIMD build (CHAARFM_WASM_RELAXED, wasm128_f32.h) the same cases are checked
// within the float error bound instead (MatchesGeneric), and the program says whether this
// runtime fused.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../src/kernels/conv_f32.h"
#include "../src/kernels/conv_tall_f32.h"
#include "../src/kernels/conv_wide_f32.h"
#include "../src/kernels/cpu_features.h"
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

std::vector<float> Abs(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

// The epilogue of an error bound: only |scale|, pooled like the real one (Relu and the max are
// 1-Lipschitz, the bias adds no error of the sum).
ConvEpilogue BoundEpilogue(const std::vector<float>& scale, std::vector<float>* abs_scale, std::vector<float>* zero) {
  *abs_scale = Abs(scale);
  zero->assign(scale.size(), 0.f);
  ConvEpilogue ep;
  ep.bn_scale = abs_scale->data();
  ep.bn_shift = zero->data();
  ep.pool_width = true;
  return ep;
}

size_t g_outputs = 0, g_differing = 0;

// SIMD128 build: bit for bit. Relaxed build: each output within 2 (n + 2) eps of `absbound` (the
// same computation on |inputs|: the bound of an n-term float sum, fused or not) plus eps |gen|.
bool MatchesGeneric(const std::vector<float>& simd, const std::vector<float>& gen, const std::vector<float>& absbound,
                    size_t n) {
  if (!kWasmRelaxedFma) return BitEqual(simd, gen);
  if (simd.size() != gen.size() || absbound.size() != gen.size()) return false;
  bool ok = true;
  for (size_t i = 0; i < gen.size(); ++i) {
    const double tol = 2.0 * (n + 2) * FLT_EPSILON * absbound[i] + FLT_EPSILON * std::fabs(gen[i]);
    if (!(std::fabs(double(simd[i]) - gen[i]) <= tol)) ok = false;
    g_outputs++;
    if (simd[i] != gen[i]) g_differing++;
  }
  return ok;
}

}  // namespace

TEST(wasm128_gemm_vs_reference) {
  CHECK(CpuBestIsa() == Isa::kWasm128 && CpuIsa() == Isa::kWasm128);
  CHECK(gemm_variant_f32("wasm128") == gemm_wasm128_f32);
  CHECK(std::strcmp(gemm_variant_name(), "wasm128") == 0);
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
    std::vector<float> bound(M * N);
    const auto absA = Abs(A), absB = Abs(B);
    gemm_ref_f32(absA.data(), K, absB.data(), N, bound.data(), N, M, N, K);
    CHECK_MSG(MatchesGeneric(simd, ref, bound, K), "M=" << M << " N=" << N << " K=" << K << " nse=" << Nse(simd, ref));
    // the dispatch took the SIMD kernel: its exact bits, whatever the build
    CHECK(BitEqual(fast, simd));
    CHECK(BitEqual(rows, simd));
  }
}

TEST(wasm128_conv_tall_vs_generic) {
  const size_t shapes[][3] = {{96, 128, 51}, {96, 64, 51}, {96, 32, 51}, {40, 9, 7}, {24, 5, 3}, {4, 3, 2}};
  for (auto& sh : shapes) {
    const size_t W = sh[0], kh = sh[1], co = sh[2], T = 29, th = T + kh - 1;
    auto xpad = Random(th * W, 51, -1.f, 4.f), w = Random(kh * co, 52, -0.2f, 0.2f);
    std::vector<float> bias, scale, shift;
    const ConvEpilogue ep = Epilogue(co, 53, &bias, &scale, &shift);
    ConvTallFn fn = conv_tall_wasm128_f32(W, co);
    CHECK_MSG(fn != nullptr, "W=" << W);
    if (!fn) continue;
    CHECK(conv_tall_pool_best_f32(W, co) == fn && conv_tall_variant_f32("wasm128", W, co) == fn);
    CHECK(std::strcmp(conv_tall_variant_name(W, co), "wasm128") == 0);
    std::vector<float> gen(T * co), simd(T * co), part(T * co), bound(T * co), abs_scale, zero;
    conv_tall_pool_generic_f32(xpad.data(), W, w.data(), kh, co, ep, 0, T, gen.data());
    fn(xpad.data(), W, w.data(), kh, co, ep, 0, T, simd.data());
    fn(xpad.data(), W, w.data(), kh, co, ep, 0, 10, part.data());
    fn(xpad.data(), W, w.data(), kh, co, ep, 10, T, part.data());
    const auto absx = Abs(xpad), absw = Abs(w);
    conv_tall_pool_generic_f32(absx.data(), W, absw.data(), kh, co, BoundEpilogue(scale, &abs_scale, &zero), 0, T,
                               bound.data());
    CHECK_MSG(MatchesGeneric(simd, gen, bound, kh), "W=" << W << " kh=" << kh << " co=" << co << " nse=" << Nse(simd, gen));
    CHECK(BitEqual(part, simd));
  }
  CHECK(conv_tall_wasm128_f32(30, 4) == nullptr);  // width not a multiple of 4: generic
}

TEST(wasm128_conv_wide_vs_generic) {
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
    CHECK(conv_wide_pool_best_f32(W, kw, co) == fn && conv_wide_variant_f32("wasm128", W, kw, co) == fn);
    CHECK(std::strcmp(conv_wide_variant_name(W, kw, co), "wasm128") == 0);
    std::vector<float> gen(T * co), simd(T * co), part(T * co), bound(T * co), abs_scale, zero;
    conv_wide_pool_generic_f32(x.data(), W, w.data(), kh, kw, co, ep, 0, T, gen.data());
    fn(x.data(), W, w.data(), kh, kw, co, ep, 0, T, simd.data());
    fn(x.data(), W, w.data(), kh, kw, co, ep, 0, 4, part.data());
    fn(x.data(), W, w.data(), kh, kw, co, ep, 4, T, part.data());
    const auto absx = Abs(x), absw = Abs(w);
    conv_wide_pool_generic_f32(absx.data(), W, absw.data(), kh, kw, co, BoundEpilogue(scale, &abs_scale, &zero), 0, T,
                               bound.data());
    CHECK_MSG(MatchesGeneric(simd, gen, bound, kh * kw), "W=" << W << " kw=" << kw << " co=" << co << " nse=" << Nse(simd, gen));
    CHECK(BitEqual(part, simd));
    // through conv2d_f32: the dispatch took the SIMD kernel and gives the im2col + reference bits
    Conv2DShape s{1, H, W, 1, kh, kw, co, 0, 0, T, OW};
    std::vector<float> viaconv(T * co), viaref(T * co);
    conv2d_f32(x.data(), w.data(), viaconv.data(), s, nullptr, true, &ep);
    conv2d_f32(x.data(), w.data(), viaref.data(), s, nullptr, false, &ep);
    CHECK(BitEqual(viaconv, simd));
    CHECK_MSG(BitEqual(viaref, gen), "im2col + reference GEMM vs generic direct, W=" << W << " kw=" << kw);
  }
  CHECK(conv_wide_wasm128_f32(6, 4, 8) == nullptr);  // fewer output pixels than a block
}

// Last of the family (tests run in file order): what the relaxed build's runtime did.
TEST(wasm128_relaxed_fma_report) {
  if (!kWasmRelaxedFma) {
    std::printf("relaxed-SIMD build: no (SIMD128: every kernel output is generic's bits)\n");
    return;
  }
  CHECK(g_outputs > 0);
  // fused or not is the runtime's choice; either way the bounds above held
  std::printf("relaxed-SIMD build: yes; %zu of %zu kernel outputs differ from generic (relaxed_madd %s here)\n", g_differing,
              g_outputs, g_differing ? "fused" : "not fused");
}
