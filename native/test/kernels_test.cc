// SPDX-License-Identifier: MIT
// Kernel tests: each kernel family against a plain scalar (double) reference by normalised
// squared error; every SIMD variant (GEMM, conv_tall, conv_wide; avx512/avx2 on x86, neon on
// arm64, wasm128 under Emscripten) against the plain reference and against the generic variant on the real MusiCNN
// layer shapes, one test per variant, SKIP when CpuIsa() (the CPU, capped by CHAARFM_MAX_ISA)
// cannot run it; and position independence (a row's value does not depend on the rows around
// it, on M, on the tiling or on the thread split), bit for bit.
#include <algorithm>
#include <cmath>

#include "../src/kernels/batchnorm_f32.h"
#include "../src/kernels/conv_f32.h"
#include "../src/kernels/conv_tall_f32.h"
#include "../src/kernels/conv_tall_dft.h"
#include "../src/kernels/conv_wide_dft.h"
#include "../src/kernels/conv_wide_f32.h"
#include "../src/kernels/cpu_features.h"
#include "../src/kernels/elementwise_f32.h"
#include "../src/kernels/matmul_f32.h"
#include "../src/kernels/parallel.h"
#include "../src/kernels/pool_f32.h"
#include "test_util.h"

using namespace chaarfm;
using namespace chaarfm::test;

namespace {

// Empty when this variant can run here, else why not (it is then a SKIP, never a PASS).
std::string Unavailable(const char* isa) {
  const std::string n = isa;
  if (n != "generic" && !gemm_variant_f32(isa)) return n + " is not built for this architecture";
  auto allows = [&](Isa i) {
    if (n == "avx512") return i == Isa::kAvx512;
    if (n == "avx2") return i == Isa::kAvx2 || i == Isa::kAvx512;
    if (n == "neon") return i == Isa::kNeon;
    if (n == "wasm128") return i == Isa::kWasm128;
    return true;
  };
  if (!allows(CpuBestIsa())) return "this CPU cannot run " + n;
  if (!allows(CpuIsa())) return std::string("capped by CHAARFM_MAX_ISA to ") + IsaName(CpuIsa());
  return {};
}

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

// One GEMM variant: against the double scalar reference and the generic (reference) GEMM on the
// MusiCNN shapes (and tails: N not a multiple of the vector, M not of the tile), then bit for
// bit position independence: any row split (M = 1, 4, 17, ... rows per call) gives the same
// rows as one call, and a row computed alone equals it computed among others.
static void GemmVariant(const char* isa) {
  const std::string why = Unavailable(isa);
  if (!why.empty()) SKIP(why);
  const GemmFn gemm = gemm_variant_f32(isa);
  const size_t shapes[][3] = {{590, 204, 266}, {300, 204, 469}, {960, 51, 128}, {960, 51, 64}, {960, 51, 32},
                              {187, 64, 3927}, {187, 64, 448}, {4, 200, 1506}, {1, 200, 1506}, {3, 50, 200},
                              {7, 13, 5},      {5, 1, 300},    {1, 17, 1}};
  for (auto& sh : shapes) {
    const size_t M = sh[0], N = sh[1], K = sh[2];
    auto A = Random(M * K, 3, 0.f, 4.f), B = Random(K * N, 4);
    std::vector<float> fast(M * N, 7.f), ref(M * N);
    gemm(A.data(), K, B.data(), N, fast.data(), N, M, N, K);
    gemm_ref_f32(A.data(), K, B.data(), N, ref.data(), N, M, N, K);
    CHECK_MSG(Nse(fast, ref) < kNseMax, isa << " vs generic M=" << M << " N=" << N << " K=" << K << " nse=" << Nse(fast, ref));
    if (M * N * K < 50'000'000) {
      const double e = Nse(fast, GemmScalar(A, B, M, N, K));
      CHECK_MSG(e < kNseMax, isa << " vs scalar M=" << M << " N=" << N << " K=" << K << " nse=" << e);
    }
    // strided A and C (lda > K, ldc > N): the rows land where they should, nothing else is written
    std::vector<float> A2(M * (K + 3), 9.f), C2(M * (N + 5), -3.f);
    for (size_t i = 0; i < M; ++i) std::copy(&A[i * K], &A[i * K] + K, &A2[i * (K + 3)]);
    gemm(A2.data(), K + 3, B.data(), N, C2.data(), N + 5, M, N, K);
    bool same = true;
    for (size_t i = 0; i < M; ++i)
      for (size_t j = 0; j < N + 5; ++j)
        same = same && (j < N ? std::memcmp(&C2[i * (N + 5) + j], &fast[i * N + j], 4) == 0 : C2[i * (N + 5) + j] == -3.f);
    CHECK_MSG(same, isa << " strided M=" << M << " N=" << N << " K=" << K);
    // row splits
    std::vector<float> parts(M * N);
    const size_t cuts[] = {0, 1, 4, 17, 59, 177, 256, 299, M};
    for (size_t c = 0; c + 1 < sizeof(cuts) / sizeof(cuts[0]); ++c) {
      const size_t r0 = std::min(cuts[c], M), r1 = std::min(cuts[c + 1], M);
      if (r1 > r0) gemm(A.data() + r0 * K, K, B.data(), N, parts.data() + r0 * N, N, r1 - r0, N, K);
    }
    CHECK_MSG(BitEqual(parts, fast), isa << " row splits M=" << M << " N=" << N << " K=" << K);
    std::vector<float> one(N);
    const size_t r = M / 2;
    gemm(A.data() + r * K, K, B.data(), N, one.data(), N, 1, N, K);
    CHECK_MSG(std::memcmp(one.data(), &fast[r * N], N * 4) == 0, isa << " row alone M=" << M << " N=" << N);
  }
}


TEST(gemm_avx512_matches_reference_and_is_position_independent) { GemmVariant("avx512"); }
TEST(gemm_avx2_matches_reference_and_is_position_independent) { GemmVariant("avx2"); }
TEST(gemm_neon_matches_reference_and_is_position_independent) { GemmVariant("neon"); }
TEST(gemm_wasm128_matches_reference_and_is_position_independent) { GemmVariant("wasm128"); }
TEST(gemm_generic_is_position_independent) { GemmVariant("generic"); }

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
    // conv2d_f32 took the variant CpuIsa() gives for this shape
    if (ConvWideFn best = conv_wide_pool_best_f32(W, kw, co)) {
      std::vector<float> v(T * co);
      best(x.data(), W, w.data(), kh, kw, co, ep, 0, T, v.data());
      const std::vector<float> fast0(fast.begin(), fast.begin() + T * co);
      CHECK_MSG(BitEqual(v, fast0), conv_wide_variant_name(W, kw, co));
    }
  }
}

// One SIMD variant of the tall kernel on MusiCNN's temporal shapes and the tails: against the
// plain reference (im2col + reference GEMM) and the generic variant; two row ranges give the
// same rows (bit for bit). Shapes the variant does not take are counted; none taken = a failure.
static void ConvTallVariant(const char* isa) {
  const std::string why = Unavailable(isa);
  if (!why.empty()) SKIP(why);
  const size_t shapes[][3] = {{96, 128, 51}, {96, 64, 51}, {96, 32, 51}, {40, 9, 7}, {24, 5, 3}, {64, 7, 5}};
  int taken = 0;
  for (auto& sh : shapes) {
    const size_t W = sh[0], kh = sh[1], co = sh[2], T = 37;
    const ConvTallFn fn = conv_tall_variant_f32(isa, W, co);
    if (!fn) continue;
    ++taken;
    Conv2DShape s{2, T, W, 1, kh, 1, co, (kh - 1) / 2, 0, T, W};
    auto x = Random(2 * T * W, 21, 0.f, 4.f), w = Random(kh * co, 22, -0.2f, 0.2f);
    PooledConvRun run(x, w, s, 23);
    const size_t th = T + kh - 1;
    std::vector<float> xpad(th * W, 0.f), gen(T * co), simd(T * co), part(T * co);
    for (size_t t = 0; t < T; ++t) std::memcpy(&xpad[(t + s.pad_top) * W], &x[t * W], W * 4);
    conv_tall_pool_generic_f32(xpad.data(), W, w.data(), kh, co, run.ep, 0, T, gen.data());
    fn(xpad.data(), W, w.data(), kh, co, run.ep, 0, T, simd.data());
    fn(xpad.data(), W, w.data(), kh, co, run.ep, 0, 11, part.data());
    fn(xpad.data(), W, w.data(), kh, co, run.ep, 11, T, part.data());
    CHECK_MSG(BitEqual(part, simd), isa << " tall row split W=" << W);
    const std::vector<float> ref0(run.ref.begin(), run.ref.begin() + T * co);
    CHECK_MSG(Nse(simd, gen) < kNseMax, isa << " tall vs generic W=" << W << " nse=" << Nse(simd, gen));
    CHECK_MSG(Nse(simd, ref0) < kNseMax, isa << " tall vs reference W=" << W << " nse=" << Nse(simd, ref0));
  }
  CHECK_MSG(taken >= 4, isa << " took only " << taken << " tall shapes");
}

// One SIMD variant of the wide kernel on MusiCNN's timbral shapes and the masked channel
// groups / overlapping last pixel blocks: against the plain reference and the generic variant,
// row ranges bit for bit.
static void ConvWideVariant(const char* isa) {
  const std::string why = Unavailable(isa);
  if (!why.empty()) SKIP(why);
  const size_t shapes[][4] = {{96, 38, 204, 7}, {96, 67, 204, 7}, {40, 9, 7, 3}, {29, 5, 33, 5},
                              {50, 3, 17, 1},   {30, 18, 13, 2},  {96, 38, 9, 7}};
  int taken = 0;
  for (auto& sh : shapes) {
    const size_t W = sh[0], kw = sh[1], co = sh[2], kh = sh[3], T = 13, H = T + kh - 1, OW = W - kw + 1;
    const ConvWideFn fn = conv_wide_variant_f32(isa, W, kw, co);
    if (!fn) continue;
    ++taken;
    Conv2DShape s{2, H, W, 1, kh, kw, co, 0, 0, T, OW};
    auto x = Random(2 * H * W, 31, -2.f, 4.f), w = Random(kh * kw * co, 32, -0.2f, 0.2f);
    PooledConvRun run(x, w, s, 33);
    std::vector<float> gen(T * co), v(T * co), part(T * co);
    conv_wide_pool_generic_f32(x.data(), W, w.data(), kh, kw, co, run.ep, 0, T, gen.data());
    fn(x.data(), W, w.data(), kh, kw, co, run.ep, 0, T, v.data());
    fn(x.data(), W, w.data(), kh, kw, co, run.ep, 0, 5, part.data());
    fn(x.data(), W, w.data(), kh, kw, co, run.ep, 5, T, part.data());
    CHECK_MSG(BitEqual(part, v), isa << " wide row split W=" << W << " kw=" << kw << " co=" << co);
    const std::vector<float> ref0(run.ref.begin(), run.ref.begin() + T * co);
    CHECK_MSG(Nse(v, gen) < kNseMax, isa << " wide vs generic W=" << W << " kw=" << kw << " co=" << co << " nse=" << Nse(v, gen));
    CHECK_MSG(Nse(v, ref0) < kNseMax, isa << " wide vs reference W=" << W << " kw=" << kw << " co=" << co << " nse=" << Nse(v, ref0));
  }
  CHECK_MSG(taken == 7, isa << " took only " << taken << " of 7 wide shapes");
}

TEST(conv_tall_avx512_matches_generic_and_reference) { ConvTallVariant("avx512"); }
TEST(conv_tall_avx2_matches_generic_and_reference) { ConvTallVariant("avx2"); }
TEST(conv_tall_neon_matches_generic_and_reference) { ConvTallVariant("neon"); }
TEST(conv_tall_wasm128_matches_generic_and_reference) { ConvTallVariant("wasm128"); }
TEST(conv_wide_avx512_matches_generic_and_reference) { ConvWideVariant("avx512"); }
TEST(conv_wide_avx2_matches_generic_and_reference) { ConvWideVariant("avx2"); }
TEST(conv_wide_neon_matches_generic_and_reference) { ConvWideVariant("neon"); }
TEST(conv_wide_wasm128_matches_generic_and_reference) { ConvWideVariant("wasm128"); }

// The DFT form's own sine and cosine: within 2.5e-16 (about 2 ulp) of the long double libm's
// on every turn fraction the transforms use (double's own sin(2 pi a / n) is further off: its
// argument is rounded), exact at the quarter turns, and the identities that the octant
// reduction must keep (sin^2 + cos^2 = 1, the mirror a <-> n - a).
TEST(dft_sincos_turn_matches_libm) {
  const long double kTwoPi = 6.283185307179586476925286766559L;
  double worst = 0;
  for (size_t n : {1, 2, 3, 7, 8, 29, 30, 45, 96, 97, 128, 1000}) {
    for (size_t a = 0; a < 2 * n; ++a) {
      double s, c;
      SinCosTurn(a, n, &s, &c);
      const long double angle = kTwoPi * static_cast<long double>(a % n) / static_cast<long double>(n);
      worst = std::max({worst, static_cast<double>(std::fabs(s - std::sin(angle))),
                        static_cast<double>(std::fabs(c - std::cos(angle)))});
      CHECK_MSG(std::fabs(s * s + c * c - 1.0) < 1e-15, "a=" << a << " n=" << n);
      double s2, c2;
      SinCosTurn(n - a % n, n, &s2, &c2);
      CHECK_MSG(s2 == -s && c2 == c, "mirror a=" << a << " n=" << n << " " << s << " " << s2);
    }
    if (n % 4 == 0) {
      double s, c;
      SinCosTurn(n / 4, n, &s, &c);
      CHECK(s == 1.0 && c == 0.0);
      SinCosTurn(n / 2, n, &s, &c);
      CHECK(c == -1.0 && std::fabs(s) == 0.0);
    }
  }
  CHECK_MSG(worst < 2.5e-16, "worst |diff| vs libm " << worst);
}

// One variant of the DFT form on MusiCNN's timbral shapes and others (odd widths, masked
// channel groups, 1, 2 and 4 pixel vectors a block): against the double reference and the
// generic direct kernel by normalised squared error; bit for bit whatever the row split (one call,
// two calls, a row at a time: the stage-A tiles fall differently); the same bits as the AVX-512
// variant where both run (the same chains lane for lane).
static void ConvWideDftVariant(const char* isa) {
  const std::string why = Unavailable(isa);
  if (!why.empty()) SKIP(why);
  const ConvWideDftFn fn = conv_wide_dft_variant_f32(isa);
  CHECK(fn != nullptr);
  if (!fn) return;
  // inverse classes: 4, 2, 4, 1 (odd width), 1, 1, 1, 1, 8, 4 (its second step halves an odd 27)
  const size_t shapes[][4] = {{96, 38, 204, 7}, {96, 67, 204, 7}, {96, 38, 9, 7},  {45, 20, 33, 3},
                              {30, 18, 13, 2},  {20, 1, 17, 3},   {12, 5, 5, 1},   {97, 40, 16, 7},
                              {128, 20, 24, 3}, {108, 30, 20, 2}};
  std::vector<size_t> classes;
  for (auto& sh : shapes) {
    const size_t W = sh[0], kw = sh[1], co = sh[2], kh = sh[3], T = 13, H = T + kh - 1, OW = W - kw + 1;
    Conv2DShape s{1, H, W, 1, kh, kw, co, 0, 0, T, OW};
    auto x = Random(H * W, 41, -2.f, 4.f), w = Random(kh * kw * co, 42, -0.2f, 0.2f);
    PooledConvRun run(x, w, s, 43);
    const auto k = PrepareWideDft(w.data(), W, kh, kw, co);
    classes.push_back(k->classes);
    std::vector<float> v(T * co), part(T * co), one(T * co), gen(T * co);
    fn(x.data(), *k, run.ep, 0, T, v.data());
    fn(x.data(), *k, run.ep, 0, 5, part.data());
    fn(x.data(), *k, run.ep, 5, T, part.data());
    for (size_t t = 0; t < T; ++t) fn(x.data(), *k, run.ep, t, t + 1, one.data());
    CHECK_MSG(BitEqual(part, v) && BitEqual(one, v), isa << " dft row split W=" << W << " kw=" << kw << " co=" << co);
    conv_wide_pool_generic_f32(x.data(), W, w.data(), kh, kw, co, run.ep, 0, T, gen.data());
    CHECK_MSG(Nse(v, gen) < kNseMax, isa << " dft vs generic W=" << W << " kw=" << kw << " co=" << co << " nse=" << Nse(v, gen));
    CHECK_MSG(Nse(v, run.ref) < kNseMax, isa << " dft vs reference W=" << W << " kw=" << kw << " nse=" << Nse(v, run.ref));
    if (std::string(isa) != "avx512" && Unavailable("avx512").empty()) {
      std::vector<float> v512(T * co);
      conv_wide_dft_variant_f32("avx512")(x.data(), *k, run.ep, 0, T, v512.data());
      CHECK_MSG(BitEqual(v512, v), isa << " dft vs avx512 W=" << W << " kw=" << kw << " co=" << co);
    }
  }
  CHECK_MSG((classes == std::vector<size_t>{4, 2, 4, 1, 1, 1, 1, 1, 8, 4}), "the shapes no longer cover 1, 2, 4 and 8 classes");
}

TEST(conv_wide_dft_avx512_matches_generic_and_reference) { ConvWideDftVariant("avx512"); }
TEST(conv_wide_dft_avx2_matches_generic_and_reference) { ConvWideDftVariant("avx2"); }
TEST(conv_wide_dft_neon_matches_generic_and_reference) { ConvWideDftVariant("neon"); }

// conv2d_f32 takes the DFT form only with a plan, on a shape where it pays, when CpuIsa() has a
// variant; the plan keeps one transform for its weights and remakes it for others.
TEST(conv_wide_dft_dispatch_and_plan) {
  CHECK(WideDftPays(96, 7, 38) && WideDftPays(96, 7, 67) && !WideDftPays(30, 2, 18) && !WideDftPays(40, 3, 9));
  const size_t W = 96, kw = 38, co = 40, kh = 7, T = 9, H = T + kh - 1, OW = W - kw + 1;
  Conv2DShape s{2, H, W, 1, kh, kw, co, 0, 0, T, OW};
  auto x = Random(2 * H * W, 51, -2.f, 4.f), w = Random(kh * kw * co, 52, -0.2f, 0.2f);
  PooledConvRun run(x, w, s, 53);
  WideDftPlan plan;
  ConvEpilogue ep = run.ep;
  ep.dft = &plan;
  std::vector<float> y(2 * T * co), y2(2 * T * co), want(2 * T * co);
  conv2d_f32(x.data(), w.data(), y.data(), s, nullptr, true, &ep);
  {
    ThreadPool pool(2);
    conv2d_f32(x.data(), w.data(), y2.data(), s, &pool, true, &ep);
  }
  CHECK(BitEqual(y, y2));
  const auto k = plan.For(w.data(), W, kh, kw, co);
  CHECK(plan.For(w.data(), W, kh, kw, co) == k);  // kept
  if (ConvWideDftFn fn = conv_wide_dft_best_f32()) {
    for (size_t n = 0; n < 2; ++n) fn(x.data() + n * H * W, *k, ep, 0, T, want.data() + n * T * co);
    CHECK_MSG(BitEqual(y, want), "conv2d_f32 with a plan did not take the " << conv_wide_dft_variant_name() << " DFT form");
    CHECK(!BitEqual(y, run.fast));  // and it is not the direct kernel's arithmetic
  } else {
    CHECK(std::string(conv_wide_dft_variant_name()) == "none");
    CHECK(BitEqual(y, run.fast));  // no variant: the direct kernels
  }
  CHECK(Nse(y, run.ref) < kNseMax);
  // other weights at another address, or another width: a new transform
  auto w2 = w;
  w2[0] += 0.5f;
  const auto k2 = plan.For(w2.data(), W, kh, kw, co);
  CHECK(k2 != k && k2->source == w2.data() && k2->weights != k->weights);
  CHECK(plan.For(w2.data(), 80, kh, kw, co)->width == 80);
  // a copy of a plan starts empty, so it never hands out the original's transform
  WideDftPlan copy = plan;
  CHECK(copy.For(w.data(), W, kh, kw, co)->source == w.data());
}

// One variant of the FFT form of the tall kernel on MusiCNN's temporal shapes (187 frames, 128,
// 64 and 32 taps, SAME padding) and others (a width that is no multiple of the lanes, an even
// kernel height, a single row): against the double reference and the generic direct kernel by
// normalised squared error; bit for bit whatever the channel split; the same bits as AVX-512.
static void ConvTallDftVariant(const char* isa) {
  const std::string why = Unavailable(isa);
  if (!why.empty()) SKIP(why);
  const TallDftFns fns = conv_tall_dft_variant_f32(isa);
  CHECK(fns.forward != nullptr && fns.channels != nullptr);
  if (!fns.forward) return;
  const size_t shapes[][4] = {{96, 128, 51, 187}, {96, 64, 51, 187}, {96, 32, 51, 187}, {40, 9, 7, 37},
                              {20, 64, 9, 50},    {7, 4, 3, 5},      {33, 3, 2, 1}};
  std::vector<size_t> lengths;
  for (auto& sh : shapes) {
    const size_t W = sh[0], kh = sh[1], co = sh[2], T = sh[3];
    Conv2DShape s{1, T, W, 1, kh, 1, co, (kh - 1) / 2, 0, T, W};
    auto x = Random(T * W, 61, 0.f, 4.f), w = Random(kh * co, 62, -0.2f, 0.2f);
    PooledConvRun run(x, w, s, 63);
    const auto k = PrepareTallDft(w.data(), W, T, kh, co, s.pad_top);
    lengths.push_back(k->n);
    std::vector<float> spectra(TallDftSpectraSize(*k)), v(T * co), part(T * co), gen(T * co);
    fns.forward(x.data(), *k, spectra.data());
    fns.channels(spectra.data(), *k, run.ep, 0, co, v.data());
    const size_t cut = co / 2;
    fns.channels(spectra.data(), *k, run.ep, cut, co, part.data());
    fns.channels(spectra.data(), *k, run.ep, 0, cut, part.data());
    CHECK_MSG(BitEqual(part, v), isa << " tall fft channel split W=" << W << " kh=" << kh);
    const size_t th = T + kh - 1;
    std::vector<float> xpad(th * W, 0.f);
    for (size_t t = 0; t < T; ++t) std::memcpy(&xpad[(t + s.pad_top) * W], &x[t * W], W * 4);
    conv_tall_pool_generic_f32(xpad.data(), W, w.data(), kh, co, run.ep, 0, T, gen.data());
    CHECK_MSG(Nse(v, gen) < kNseMax, isa << " tall fft vs generic W=" << W << " kh=" << kh << " nse=" << Nse(v, gen));
    CHECK_MSG(Nse(v, run.ref) < kNseMax, isa << " tall fft vs reference W=" << W << " kh=" << kh << " nse=" << Nse(v, run.ref));
    if (std::string(isa) != "avx512" && Unavailable("avx512").empty()) {
      const TallDftFns f512 = conv_tall_dft_variant_f32("avx512");
      std::vector<float> sp512(spectra.size()), v512(T * co);
      f512.forward(x.data(), *k, sp512.data());
      f512.channels(sp512.data(), *k, run.ep, 0, co, v512.data());
      CHECK_MSG(BitEqual(v512, v), isa << " tall fft vs avx512 W=" << W << " kh=" << kh);
    }
  }
  CHECK((lengths == std::vector<size_t>{256, 256, 256, 64, 128, 8, 4}));
}

TEST(conv_tall_dft_avx512_matches_generic_and_reference) { ConvTallDftVariant("avx512"); }
TEST(conv_tall_dft_avx2_matches_generic_and_reference) { ConvTallDftVariant("avx2"); }
TEST(conv_tall_dft_neon_matches_generic_and_reference) { ConvTallDftVariant("neon"); }

// conv2d_f32 takes the FFT form of the tall kernel only with a plan, on a shape where it pays
// (128 and 64 taps on 187 rows, not 32), when CpuIsa() has a variant; batches of images and
// thread counts give the same bits.
TEST(conv_tall_dft_dispatch_and_plan) {
  CHECK(TallDftPays(187, 128) && TallDftPays(187, 64) && !TallDftPays(187, 32) && !TallDftPays(37, 9));
  const size_t W = 96, kh = 64, co = 51, T = 187;
  Conv2DShape s{3, T, W, 1, kh, 1, co, (kh - 1) / 2, 0, T, W};
  auto x = Random(3 * T * W, 71, 0.f, 4.f), w = Random(kh * co, 72, -0.2f, 0.2f);
  PooledConvRun run(x, w, s, 73);
  TallDftPlan plan;
  ConvEpilogue ep = run.ep;
  ep.tall_dft = &plan;
  std::vector<float> y(3 * T * co), y2(3 * T * co), want(3 * T * co);
  conv2d_f32(x.data(), w.data(), y.data(), s, nullptr, true, &ep);
  {
    ThreadPool pool(2);
    conv2d_f32(x.data(), w.data(), y2.data(), s, &pool, true, &ep);
  }
  CHECK(BitEqual(y, y2));
  const auto k = plan.For(w.data(), W, T, kh, co, s.pad_top);
  CHECK(plan.For(w.data(), W, T, kh, co, s.pad_top) == k);
  const TallDftFns fns = conv_tall_dft_best_f32();
  if (fns.forward) {
    std::vector<float> spectra(TallDftSpectraSize(*k));
    for (size_t n = 0; n < 3; ++n) {
      fns.forward(x.data() + n * T * W, *k, spectra.data());
      fns.channels(spectra.data(), *k, ep, 0, co, want.data() + n * T * co);
    }
    CHECK_MSG(BitEqual(y, want), "conv2d_f32 with a plan did not take the FFT form");
    CHECK(!BitEqual(y, run.fast));
  } else {
    CHECK(BitEqual(y, run.fast));
  }
  CHECK(Nse(y, run.ref) < kNseMax);
  CHECK(plan.For(w.data(), W, 100, kh, co, s.pad_top)->rows == 100);  // another image shape: remade
}

// The cap obeys CHAARFM_MAX_ISA and SetIsaCapForTesting, for every dispatching family.
TEST(isa_cap_lowers_every_dispatch) {
  const Isa top = CpuIsa();
  SetIsaCapForTesting(Isa::kGeneric);
  CHECK(CpuIsa() == Isa::kGeneric && !CpuHasAvx2Fma() && !CpuHasAvx512f() && !CpuHasNeon() &&
        !CpuHasWasm128());
  CHECK(std::string(gemm_variant_name()) == "generic");
  CHECK(conv_tall_pool_best_f32(96, 51) == nullptr && conv_wide_pool_best_f32(96, 38, 204) == nullptr);
  SetIsaCapForTesting(Isa::kAvx2);
  CHECK(CpuIsa() == (top == Isa::kAvx512 ? Isa::kAvx2 : top));
  CHECK(!CpuHasAvx512f());
  SetIsaCapForTesting(Isa::kAvx512);
  CHECK(CpuIsa() == top);
  CHECK(std::string(gemm_variant_name()) == IsaName(top));
  CHECK(std::string(conv_wide_variant_name(96, 38, 204)) == IsaName(top));
  CHECK(std::string(conv_tall_variant_name(96, 51)) == IsaName(top));
}
