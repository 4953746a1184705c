// SPDX-License-Identifier: MIT
// Kernel benchmark on the real MusiCNN layer shapes (one 187-frame patch): GFLOP/s of
//  - engine:   conv2d_f32 as the engine runs it (im2col in chunks of whole output rows + GEMM),
//              with the generic reference GEMM and with the GEMM of CpuIsa(), 1 and 2 threads;
//  - direct:   for tall one-channel kernels, the engine's fused direct SIMD kernel (with
//              bias/Relu/batchnorm and the max over the width included in the time);
//  - dft:      the DFT form of conv_wide_dft.h (timbral) or conv_tall_dft.h (temporal, where it
//              pays) on the same fused path, as GFLOP/s-equivalent (the direct form's 2*M*N*K
//              over its time: it does 2-4x fewer operations);
// Single-thread columns use process CPU time (best of reps), the 2-thread column wall time.
//  - gemm:     one gemm_f32 call (CpuIsa()'s variant) on the whole prebuilt im2col matrix;
//  - onednn:   (when built with it) oneDNN's convolution with its preferred layouts
//              (layout reorders excluded) and its matmul on the im2col shape; threads from
//              OMP_NUM_THREADS.
// CHAARFM_MAX_ISA=avx512|avx2|generic picks the variants measured.
// Usage: chaarfm_kernel_bench [reps]. Not part of the test suite. Single-threaded driver.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/conv_f32.h"
#include "kernels/conv_tall_dft.h"
#include "kernels/conv_wide_dft.h"
#include "kernels/matmul_f32.h"
#include "kernels/parallel.h"

#ifdef CHAARFM_BENCH_DNNL
#include <dnnl.hpp>
#endif

using namespace chaarfm;

namespace {

struct Layer {
  const char* name;
  Conv2DShape s;  // n h w c kh kw co pad_top pad_left oh ow
};

bool g_cpu_time = true;  // single-thread columns: process CPU time (robust on a shared machine)

double Now() {
  if (!g_cpu_time) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double Seconds(const std::function<void()>& fn, int reps) {
  fn();  // warm-up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = Now();
    fn();
    best = std::min(best, Now() - t0);
  }
  return best;
}

std::vector<float> Fill(size_t n, unsigned seed) {
  std::vector<float> v(n);
  for (auto& x : v) { seed = seed * 1664525u + 1013904223u; x = static_cast<float>(seed >> 8) / 16777216.f - 0.5f; }
  return v;
}

#ifdef CHAARFM_BENCH_DNNL
std::string g_impl;
double DnnlConv(const Conv2DShape& s, int reps) {
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream st(eng);
  const memory::dim pb = (long)(s.oh + s.kh - 1) - (long)(s.h + s.pad_top);  // zeros after
  memory::dims src{(long)s.n, (long)s.c, (long)s.h, (long)s.w}, wei{(long)s.co, (long)s.c, (long)s.kh, (long)s.kw},
      dst{(long)s.n, (long)s.co, (long)s.oh, (long)s.ow};
  auto any = [](memory::dims d) { return memory::desc(d, memory::data_type::f32, memory::format_tag::any); };
  convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, any(src), any(wei), any(dst),
                              {1, 1}, {(long)s.pad_top, (long)s.pad_left}, {pb, (long)(s.ow + s.kw - 1) - (long)(s.w + s.pad_left)});
  convolution_forward::primitive_desc pd(d, eng);
  memory ms(pd.src_desc(), eng), mw(pd.weights_desc(), eng), md(pd.dst_desc(), eng);
  std::fill_n(static_cast<float*>(ms.get_data_handle()), pd.src_desc().get_size() / 4, 0.25f);
  std::fill_n(static_cast<float*>(mw.get_data_handle()), pd.weights_desc().get_size() / 4, 0.01f);
  convolution_forward conv(pd);
  g_impl = pd.impl_info_str();
  return Seconds([&] { conv.execute(st, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}}); st.wait(); }, reps);
}
double DnnlMatmul(size_t M, size_t N, size_t K, int reps) {
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream st(eng);
  memory::desc a({(long)M, (long)K}, memory::data_type::f32, memory::format_tag::ab);
  memory::desc b({(long)K, (long)N}, memory::data_type::f32, memory::format_tag::any);
  memory::desc c({(long)M, (long)N}, memory::data_type::f32, memory::format_tag::ab);
  matmul::primitive_desc pd(matmul::desc(a, b, c), eng);
  memory ma(a, eng), mb(pd.weights_desc(), eng), mc(c, eng);
  std::fill_n(static_cast<float*>(ma.get_data_handle()), M * K, 0.25f);
  std::fill_n(static_cast<float*>(mb.get_data_handle()), pd.weights_desc().get_size() / 4, 0.01f);
  matmul mm(pd);
  return Seconds([&] { mm.execute(st, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}}); st.wait(); }, reps);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  const Layer layers[] = {
      {"timbral 7x38 (conv2d)", {1, 193, 96, 1, 7, 38, 204, 0, 0, 187, 59}},
      {"timbral 7x67 (conv2d_1)", {1, 193, 96, 1, 7, 67, 204, 0, 0, 187, 30}},
      {"temporal 128x1 (conv2d_2)", {1, 187, 96, 1, 128, 1, 51, 63, 0, 187, 96}},
      {"temporal 64x1 (conv2d_3)", {1, 187, 96, 1, 64, 1, 51, 31, 0, 187, 96}},
      {"temporal 32x1 (conv2d_4)", {1, 187, 96, 1, 32, 1, 51, 15, 0, 187, 96}},
      {"mid 7x561 (conv2d_5)", {1, 193, 561, 1, 7, 561, 64, 0, 0, 187, 1}},
      {"mid 7x64 (conv2d_6/7)", {1, 193, 64, 1, 7, 64, 64, 0, 0, 187, 1}},
      {"dense 1506x200 (M=1)", {1, 1, 1, 1506, 1, 1, 200, 0, 0, 1, 1}},
  };
  std::printf("kernel isa: %s; best of %d runs; GFLOP/s (2*M*N*K / time)\n", IsaName(CpuIsa()), reps);
  std::printf("%-26s %7s %5s %5s | %8s %8s %8s %8s %8s %8s | %8s", "layer", "M", "K", "N", "ref 1t", "eng 1t",
              "eng 2t", "ms 1t", "direct", "dft", "gemm 1t");
#ifdef CHAARFM_BENCH_DNNL
  std::printf(" %8s %8s", "dnnl cv", "dnnl mm");
#endif
  std::printf("\n");
  ThreadPool p1(1), p2(2);
  for (const Layer& L : layers) {
    const Conv2DShape& s = L.s;
    const size_t M = s.n * s.oh * s.ow, K = s.kh * s.kw * s.c, N = s.co;
    const double flop = 2.0 * M * N * K;
    auto x = Fill(s.n * s.h * s.w * s.c, 1), w = Fill(K * N, 2);
    std::vector<float> y(M * N);
    const double tr = Seconds([&] { conv2d_f32(x.data(), w.data(), y.data(), s, &p1, false); }, std::max(1, reps / 3));
    const double t1 = Seconds([&] { conv2d_f32(x.data(), w.data(), y.data(), s, &p1, true); }, reps);
    g_cpu_time = false;  // wall time for the two-thread column
    const double t2 = Seconds([&] { conv2d_f32(x.data(), w.data(), y.data(), s, &p2, true); }, reps);
    g_cpu_time = true;
    // the engine's fused paths for one-channel kernels, tall (temporal) and wide (timbral): direct
    // SIMD conv + bias/Relu/batchnorm + max over the width
    double tt = 0, td = 0;
    if (s.c == 1 && s.kh > 1 && (s.kw == 1 || (s.ow > 1 && s.pad_top == 0 && s.pad_left == 0))) {
      std::vector<float> ones(N, 1.f), zeros(N, 0.f), pooled(s.n * s.oh * N);
      ConvEpilogue ep;
      ep.bias = zeros.data(); ep.relu = true; ep.bn_scale = ones.data(); ep.bn_shift = zeros.data(); ep.pool_width = true;
      tt = Seconds([&] { conv2d_f32(x.data(), w.data(), pooled.data(), s, &p1, true, &ep); }, reps);
      // the DFT form of the wide kernel (conv_wide_dft.h), its transforms made before the timing
      WideDftPlan plan;
      TallDftPlan tall_plan;
      if (s.kw > 1 && WideDftPays(s.w, s.kh, s.kw) && conv_wide_dft_best_f32()) {
        ep.dft = &plan;
        plan.For(w.data(), s.w, s.kh, s.kw, s.co);
        td = Seconds([&] { conv2d_f32(x.data(), w.data(), pooled.data(), s, &p1, true, &ep); }, reps);
      }
      if (s.kw == 1 && TallDftPays(s.h, s.kh) && conv_tall_dft_best_f32().forward) {
        ep.tall_dft = &tall_plan;
        tall_plan.For(w.data(), s.w, s.h, s.kh, s.co, s.pad_top);
        td = Seconds([&] { conv2d_f32(x.data(), w.data(), pooled.data(), s, &p1, true, &ep); }, reps);
      }
    }
    std::vector<float> col(M * K);
    im2col_f32(x.data(), s, 0, M, col.data());
    const double tb = Seconds([&] { gemm_f32(col.data(), K, w.data(), N, y.data(), N, M, N, K); }, reps);
    std::printf("%-26s %7zu %5zu %5zu | %8.1f %8.1f %8.1f %8.2f %8.1f %8.1f | %8.1f", L.name, M, K, N,
                flop / tr * 1e-9, flop / t1 * 1e-9, flop / t2 * 1e-9, t1 * 1e3, tt > 0 ? flop / tt * 1e-9 : 0.0,
                td > 0 ? flop / td * 1e-9 : 0.0, flop / tb * 1e-9);
#ifdef CHAARFM_BENCH_DNNL
    const double tc = s.c == 1 || s.kh > 1 ? DnnlConv(s, reps) : 0;
    const double tm = DnnlMatmul(M, N, K, reps);
    std::printf(" %8.1f %8.1f  (%s)", tc > 0 ? flop / tc * 1e-9 : 0.0, flop / tm * 1e-9, tc > 0 ? g_impl.c_str() : "-");
#endif
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
