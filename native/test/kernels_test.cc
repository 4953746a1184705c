// SPDX-License-Identifier: MIT
// Kernel tests: each kernel family against a plain scalar (double) reference by normalised
// squared error, the fast (library) GEMM against the generic one on the real MusiCNN layer
// shapes, and position independence (a row's value does not depend on the rows around it).
#include <algorithm>
#include <cmath>

#include "../src/kernels/backend.h"
#include "../src/kernels/batchnorm_f32.h"
#include "../src/kernels/conv_f32.h"
#include "../src/kernels/conv_tall_f32.h"
#include "../src/kernels/conv_wide_f32.h"
#include "../src/kernels/cpu_features.h"
#include "../src/kernels/elementwise_f32.h"
#include "../src/kernels/matmul_f32.h"
#include "../src/kernels/parallel.h"
#include "../src/kernels/pool_f32.h"
#include "test_util.h"

using namespace chaarfm;
using namespace chaarfm::test;

#if CHAARFM_X86
namespace chaarfm {
ConvTallFn conv_tall_avx512_f32(size_t width, size_t co);  // the variants, reached directly to test each
ConvTallFn conv_tall_avx2_f32(size_t width, size_t co);
ConvWideFn conv_wide_avx512_f32(size_t width, size_t kw, size_t co);
}  // namespace chaarfm
#endif

namespace {

std::vector<double> GemmScalar(const std::vector<float>& A, const std::vector<float>& B, size_t M, size_t N, size_t K) {
  std::vector<double> C(M * N, 0.0);
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < N; ++j) {
      double acc = 0;
      for (size_t k = 0; k < K; ++k) acc += static_cast<double>(A[i * K + k]) * B[k * N + j];
      C[i * N + j] = acc;
    }
  return C;
}

std::vector<double> ConvScalar(const std::vector<float>& x, const std::vector<float>& w, const Conv2DShape& s) {
  std::vector<double> y(s.n * s.oh * s.ow * s.co, 0.0);
  for (size_t n = 0; n < s.n; ++n)
    for (size_t oy = 0; oy < s.oh; ++oy)
      for (size_t ox = 0; ox < s.ow; ++ox)
        for (size_t o = 0; o < s.co; ++o) {
          double acc = 0;
          for (size_t ky = 0; ky < s.kh; ++ky)
            for (size_t kx = 0; kx < s.kw; ++kx) {
              const long iy = long(oy + ky) - long(s.pad_top), ix = long(ox + kx) - long(s.pad_left);
              if (iy < 0 || ix < 0 || iy >= long(s.h) || ix >= long(s.w)) continue;
              for (size_t c = 0; c < s.c; ++c)
                acc += double(x[((n * s.h + iy) * s.w + ix) * s.c + c]) * w[((ky * s.kw + kx) * s.c + c) * s.co + o];
            }
          y[((n * s.oh + oy) * s.ow + ox) * s.co + o] = acc;
        }
  return y;
}


// A fused bias/Relu/batchnorm/max-over-width epilogue with random parameters, and conv2d_f32 run
// with it three ways: the reference GEMM, the fast path, and the fast path on two threads.
struct PooledConvRun {
  std::vector<float> bias, scale, shift, ref, fast, fast2;
  ConvEpilogue ep;
  PooledConvRun(const std::vector<float>& x, const std::vector<float>& w, const Conv2DShape& s, unsigned seed)
      : bias(Random(s.co, seed)), scale(Random(s.co, seed + 1, 0.5f, 2.f)), shift(Random(s.co, seed + 2)) {
    ep.bias = bias.data(); ep.relu = true; ep.bn_scale = scale.data(); ep.bn_shift = shift.data(); ep.pool_width = true;
    const size_t n = s.n * s.oh * s.co;
    ref.resize(n); fast.resize(n); fast2.resize(n);
    conv2d_f32(x.data(), w.data(), ref.data(), s, nullptr, false, &ep);   // im2col + reference GEMM
    conv2d_f32(x.data(), w.data(), fast.data(), s, nullptr, true, &ep);   // SIMD kernel when available
    ThreadPool pool(2);
    conv2d_f32(x.data(), w.data(), fast2.data(), s, &pool, true, &ep);
  }
};

}  // namespace

TEST(gemm_reference_matches_scalar) {
  const size_t shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {33, 204, 266}, {187, 64, 3927 / 7}, {3, 200, 1506}};
  for (auto& sh : shapes) {
    const size_t M = sh[0], N = sh[1], K = sh[2];
    auto A = Random(M * K, 1), B = Random(K * N, 2);
    std::vector<float> C(M * N);
    gemm_ref_f32(A.data(), K, B.data(), N, C.data(), N, M, N, K);
    const double e = Nse(C, GemmScalar(A, B, M, N, K));
    CHECK_MSG(e < kNseMax, "M=" << M << " N=" << N << " K=" << K << " nse=" << e);
  }
}

TEST(gemm_fast_matches_reference_on_musicnn_shapes) {
  if (!FastBackendAvailable()) { std::cout << "  SKIP: no fast backend built\n"; return; }
  // im2col shapes of the MusiCNN layers (M reduced where the full size only repeats rows)
  const size_t shapes[][3] = {{590, 204, 266}, {300, 204, 469}, {960, 51, 128}, {960, 51, 64},
                              {960, 51, 32},   {187, 64, 3927}, {187, 64, 448}, {1, 200, 1506}, {1, 50, 200}};
  for (auto& sh : shapes) {
    const size_t M = sh[0], N = sh[1], K = sh[2];
    auto A = Random(M * K, 3, 0.f, 4.f), B = Random(K * N, 4);
    std::vector<float> fast(M * N), ref(M * N);
    gemm_f32(A.data(), K, B.data(), N, fast.data(), N, M, N, K);
    gemm_ref_f32(A.data(), K, B.data(), N, ref.data(), N, M, N, K);
    const double e = Nse(fast, ref);
    CHECK_MSG(e < kNseMax, "M=" << M << " N=" << N << " K=" << K << " nse=" << e);
  }
}

TEST(gemm_rows_do_not_depend_on_neighbours) {
  // The overlap reuse and the thread split rely on this: through gemm_rows_f32 (and the plain
  // reference), a row's value is bit-identical whatever rows it is computed with.
  const size_t shapes[][3] = {{600, 204, 266}, {300, 204, 469}, {400, 51, 128}, {187, 64, 3927}, {700, 51, 32}};
  for (int fast = 0; fast < 2; ++fast) {
    for (auto& sh : shapes) {
      const size_t M = sh[0], N = sh[1], K = sh[2];
      auto A = Random(M * K, 5, 0.f, 4.f), B = Random(K * N, 6);
      std::vector<float> all(M * N), parts(M * N);
      gemm_rows_f32(A.data(), K, B.data(), N, all.data(), N, M, N, K, fast != 0);
      const size_t cuts[] = {0, 1, 4, 17, 59, 177, 256, 299, M};
      for (size_t c = 0; c + 1 < sizeof(cuts) / sizeof(cuts[0]); ++c) {
        const size_t r0 = std::min(cuts[c], M), r1 = std::min(cuts[c + 1], M);
        if (r1 > r0) gemm_rows_f32(A.data() + r0 * K, K, B.data(), N, parts.data() + r0 * N, N, r1 - r0, N, K, fast != 0);
      }
      CHECK_MSG(BitEqual(all, parts), (fast ? "fast" : "reference") << " M=" << M << " N=" << N << " K=" << K);
    }
  }
  // single-row calls (the engine's MatMul) agree with each other whatever the row
  const size_t K = 1506, N = 200;
  auto A = Random(3 * K, 7), B = Random(K * N, 8);
  std::vector<float> r0(N), r1(N);
  gemm_f32(A.data(), K, B.data(), N, r0.data(), N, 1, N, K);
  std::vector<float> copy(A.begin(), A.begin() + K);
  gemm_f32(copy.data(), K, B.data(), N, r1.data(), N, 1, N, K);
  CHECK(BitEqual(r0, r1));
}

TEST(conv2d_matches_scalar_valid_and_same) {
  struct Case { Conv2DShape s; };
  std::vector<Conv2DShape> cases;
  // timbral-like (VALID, one channel), temporal-like (SAME, tall kernel), multi-channel
  cases.push_back({2, 13, 96, 1, 7, 38, 12, 0, 0, 7, 59});
  cases.push_back({1, 20, 24, 1, 16, 1, 5, 7, 0, 20, 24});
  cases.push_back({1, 9, 6, 3, 3, 2, 4, 1, 0, 9, 5});
  ThreadPool pool(2);
  for (auto& s : cases) {
    auto x = Random(s.n * s.h * s.w * s.c, 7, 0.f, 4.f), w = Random(s.kh * s.kw * s.c * s.co, 8);
    const auto ref = ConvScalar(x, w, s);
    for (int fast = 0; fast < 2; ++fast)
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> y(ref.size());
        conv2d_f32(x.data(), w.data(), y.data(), s, p, fast != 0);
        const double e = Nse(y, ref);
        CHECK_MSG(e < kNseMax, "conv kh=" << s.kh << " kw=" << s.kw << " fast=" << fast << " nse=" << e);
      }
  }
}

TEST(maxpool_reduce_batchnorm_elementwise_match_scalar) {
  // maxpool over [1, 5, 12, 3] with window 1x6, stride 1x6
  auto x = Random(5 * 12 * 3, 9);
  std::vector<float> y(5 * 2 * 3);
  maxpool_f32(x.data(), y.data(), 1, 5, 12, 3, 1, 6, 1, 6, 5, 2);
  std::vector<double> r(y.size());
  for (size_t t = 0; t < 5; ++t)
    for (size_t o = 0; o < 2; ++o)
      for (size_t c = 0; c < 3; ++c) {
        double m = -1e30;
        for (size_t k = 0; k < 6; ++k) m = std::max(m, double(x[(t * 12 + o * 6 + k) * 3 + c]));
        r[(t * 2 + o) * 3 + c] = m;
      }
  CHECK(Nse(y, r) < kNseMax);
  // reductions over the middle axis of [4, 7, 5]
  auto z = Random(4 * 7 * 5, 10);
  std::vector<float> mx(20), mn(20);
  reduce_max_f32(z.data(), mx.data(), 4, 7, 5);
  reduce_mean_f32(z.data(), mn.data(), 4, 7, 5);
  std::vector<double> rmx(20), rmn(20);
  for (size_t o = 0; o < 4; ++o)
    for (size_t i = 0; i < 5; ++i) {
      double m = -1e30, s = 0;
      for (size_t k = 0; k < 7; ++k) { m = std::max(m, double(z[(o * 7 + k) * 5 + i])); s += z[(o * 7 + k) * 5 + i]; }
      rmx[o * 5 + i] = m;
      rmn[o * 5 + i] = s / 7;
    }
  CHECK(Nse(mx, rmx) < kNseMax);
  CHECK(Nse(mn, rmn) < kNseMax);
  // batchnorm
  auto g = Random(6, 11, 0.5f, 2.f), b = Random(6, 12), m = Random(6, 13), v = Random(6, 14, 0.1f, 3.f);
  auto in = Random(30, 15);
  std::vector<float> sc(6), sh(6), out(30);
  batchnorm_params_f32(g.data(), b.data(), m.data(), v.data(), 1e-3f, 6, sc.data(), sh.data());
  batchnorm_f32(in.data(), out.data(), 5, 6, sc.data(), sh.data());
  std::vector<double> rb(30);
  for (size_t i = 0; i < 30; ++i) {
    const size_t c = i % 6;
    rb[i] = (double(in[i]) - m[c]) / std::sqrt(double(v[c]) + 1e-3) * g[c] + b[c];
  }
  CHECK(Nse(out, rb) < kNseMax);
  // element-wise
  auto e = Random(50, 16, -4.f, 4.f);
  std::vector<float> o1(50), o2(50), o3(50);
  relu_f32(e.data(), o1.data(), 50);
  sigmoid_f32(e.data(), o2.data(), 50);
  auto pos = Random(50, 17, 0.1f, 5.f);
  rsqrt_f32(pos.data(), o3.data(), 50);
  std::vector<double> r1(50), r2(50), r3(50);
  for (size_t i = 0; i < 50; ++i) {
    r1[i] = e[i] > 0 ? e[i] : 0;
    r2[i] = 1 / (1 + std::exp(-double(e[i])));
    r3[i] = 1 / std::sqrt(double(pos[i]));
  }
  CHECK(Nse(o1, r1) < kNseMax);
  CHECK(Nse(o2, r2) < kNseMax);
  CHECK(Nse(o3, r3) < kNseMax);
  // broadcast [2,3,4] op [3,1]
  auto a = Random(24, 18), c = Random(3, 19);
  for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kSquaredDifference}) {
    std::vector<float> yo(24);
    broadcast_f32(op, a.data(), {2, 3, 4}, c.data(), {1, 3, 1}, yo.data(), {2, 3, 4});
    std::vector<double> ro(24);
    for (size_t i = 0; i < 24; ++i) {
      const double p = a[i], q = c[(i / 4) % 3];
      ro[i] = op == BinaryOp::kAdd ? p + q : op == BinaryOp::kSub ? p - q : op == BinaryOp::kMul ? p * q : (p - q) * (p - q);
    }
    CHECK(Nse(yo, ro) < kNseMax);
  }
}

TEST(thread_pool_runs_every_task_once) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 50; ++rep) {
    std::vector<int> hits(257, 0);
    pool.ParallelFor(hits.size(), [&](size_t i) { hits[i]++; });
    CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
  }
}

TEST(conv_tall_simd_matches_generic_and_im2col) {
  // MusiCNN's temporal layers: [187 x 96] input, kernels 128/64/32 x 1, 51 filters, SAME,
  // fused bias/Relu/batchnorm and max over the width; also odd widths for the masked tails.
  const size_t shapes[][3] = {{96, 128, 51}, {96, 64, 51}, {96, 32, 51}, {40, 9, 7}, {24, 5, 3}};
  for (auto& sh : shapes) {
    const size_t W = sh[0], kh = sh[1], co = sh[2], T = 37;
    Conv2DShape s{2, T, W, 1, kh, 1, co, (kh - 1) / 2, 0, T, W};
    auto x = Random(2 * T * W, 21, 0.f, 4.f), w = Random(kh * co, 22, -0.2f, 0.2f);
    PooledConvRun run(x, w, s, 23);
    const auto& ref = run.ref; const auto& fast = run.fast; const auto& fast2 = run.fast2; const auto& ep = run.ep;
    CHECK_MSG(Nse(fast, ref) < kNseMax, "W=" << W << " kh=" << kh << " (" << conv_tall_variant_name(W, co) << ") nse=" << Nse(fast, ref));
    CHECK(BitEqual(fast, fast2));
    // the generic variant of the direct kernel, on the same padded input
    const size_t th = T + kh - 1;
    std::vector<float> xpad(th * W, 0.f), gen(T * co);
    for (size_t t = 0; t < T; ++t) std::memcpy(&xpad[(t + s.pad_top) * W], &x[t * W], W * 4);
    conv_tall_pool_generic_f32(xpad.data(), W, w.data(), kh, co, ep, 0, T, gen.data());
    std::vector<float> ref0(ref.begin(), ref.begin() + T * co);
    CHECK_MSG(Nse(gen, ref0) < kNseMax, "generic tall W=" << W << " nse=" << Nse(gen, ref0));
    // every SIMD variant this CPU can run, against the generic one
#if CHAARFM_X86
    const bool has[2] = {CpuHasAvx512f(), CpuHasAvx2Fma()};
    const ConvTallFn fns[2] = {conv_tall_avx512_f32(W, co), conv_tall_avx2_f32(W, co)};
    for (int v = 0; v < 2; ++v) {
      if (!has[v] || !fns[v]) continue;
      std::vector<float> simd(T * co);
      fns[v](xpad.data(), W, w.data(), kh, co, ep, 0, T, simd.data());
      std::vector<float> part(T * co);  // two row ranges give the same rows
      fns[v](xpad.data(), W, w.data(), kh, co, ep, 0, 11, part.data());
      fns[v](xpad.data(), W, w.data(), kh, co, ep, 11, T, part.data());
      CHECK(BitEqual(part, simd));
      CHECK_MSG(Nse(simd, gen) < kNseMax, (v ? "avx2" : "avx512") << " W=" << W << " nse=" << Nse(simd, gen));
    }
#endif
  }
}

TEST(conv_wide_simd_matches_generic_and_im2col) {
  // MusiCNN's timbral layers: a [193 x 96] block (187 rows + the 3-row halo each side), kernels
  // 7x38 and 7x67, 204 filters, VALID, fused bias/Relu/batchnorm and max over the width; also
  // channel counts that leave 1..31 last channels (the masked groups) and a width whose last
  // pixel block overlaps the one before it.
  const size_t shapes[][4] = {{96, 38, 204, 7}, {96, 67, 204, 7}, {40, 9, 7, 3}, {29, 5, 33, 5}, {50, 3, 17, 1}};
  for (auto& sh : shapes) {
    const size_t W = sh[0], kw = sh[1], co = sh[2], kh = sh[3], T = 13, H = T + kh - 1, OW = W - kw + 1;
    Conv2DShape s{2, H, W, 1, kh, kw, co, 0, 0, T, OW};
    auto x = Random(2 * H * W, 31, -2.f, 4.f), w = Random(kh * kw * co, 32, -0.2f, 0.2f);
    PooledConvRun run(x, w, s, 33);
    const auto& ref = run.ref; const auto& fast = run.fast; const auto& fast2 = run.fast2; const auto& ep = run.ep;
    const auto& bias = run.bias; const auto& scale = run.scale; const auto& shift = run.shift;
    CHECK_MSG(Nse(fast, ref) < kNseMax, "W=" << W << " kw=" << kw << " co=" << co << " nse=" << Nse(fast, ref));
    CHECK(BitEqual(fast, fast2));
    // the generic variant of the direct kernel: against the scalar double reference, pooled
    std::vector<float> gen(T * co);
    conv_wide_pool_generic_f32(x.data(), W, w.data(), kh, kw, co, ep, 0, T, gen.data());
    Conv2DShape s1 = s;
    s1.n = 1;
    const std::vector<float> x1(x.begin(), x.begin() + H * W);
    const auto raw = ConvScalar(x1, w, s1);
    std::vector<double> want(T * co);
    for (size_t t = 0; t < T; ++t)
      for (size_t o = 0; o < co; ++o) {
        double m = 0;
        for (size_t f = 0; f < OW; ++f) {
          double v = std::max(raw[(t * OW + f) * co + o] + bias[o], 0.0) * scale[o] + shift[o];
          m = f == 0 ? v : std::max(m, v);
        }
        want[t * co + o] = m;
      }
    CHECK_MSG(Nse(gen, want) < kNseMax, "generic wide W=" << W << " kw=" << kw << " nse=" << Nse(gen, want));
    // the AVX-512 variant, when this CPU can run it and the shape is one it takes
#if CHAARFM_X86
    ConvWideFn simd = CpuHasAvx512f() ? conv_wide_avx512_f32(W, kw, co) : nullptr;
#else
    ConvWideFn simd = nullptr;
#endif
    if (!simd) continue;
    std::vector<float> v(T * co), part(T * co);
    simd(x.data(), W, w.data(), kh, kw, co, ep, 0, T, v.data());
    simd(x.data(), W, w.data(), kh, kw, co, ep, 0, 5, part.data());  // two row ranges give the same rows
    simd(x.data(), W, w.data(), kh, kw, co, ep, 5, T, part.data());
    CHECK(BitEqual(part, v));
    CHECK_MSG(Nse(v, gen) < kNseMax, "avx512 wide W=" << W << " kw=" << kw << " co=" << co << " nse=" << Nse(v, gen));
    const std::vector<float> fast0(fast.begin(), fast.begin() + T * co);
    CHECK(BitEqual(v, fast0));  // conv2d_f32 took the SIMD kernel
  }
}
