// SPDX-License-Identifier: MIT
// chaarfm_resample_bench: our SRC_SINC_MEDIUM resampler (each dot-product variant, 1 and 2
// threads) against libsamplerate 0.2.2 itself, in one run, on one signal, fed as Essentia feeds
// them (4096-sample blocks, the float ratio). Wall time, best of N; each row also says whether its
// output is bit-identical to the library's. Not a test.
//   chaarfm_resample_bench [--pcm FILE.f32 --rate HZ] [--seconds S] [--repeat N]
// Without --pcm: S seconds (default 240) of a synthetic 44.1 kHz music-like signal.
#include <samplerate.h>

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "audio/resample.h"
#include "audio/sinc_medium.h"
#include "kernels/cpu_features.h"
#include "../../native/test/resample_support.h"

using namespace chaarfm;
using resample_support::Libsamplerate;

namespace {

// about what the worker's decoder hands over
constexpr size_t kChunk = 65536;

double CpuSeconds() {  // the whole process, all its threads
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Time {
  double wall = 1e30, cpu = 1e30;  // best of the runs, each
};

template <class F>
Time Best(int repeat, F&& f) {
  Time best;
  for (int i = 0; i < repeat; i++) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = CpuSeconds();
    f();
    best.cpu = std::min(best.cpu, CpuSeconds() - c0);
    best.wall = std::min(best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  if (!(f >> a >> b >> c)) return "n/a";
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pcm;
  double rate = 44100, seconds = 240;
  int repeat = 3;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--pcm") && i + 1 < argc) pcm = argv[++i];
    else if (!std::strcmp(argv[i], "--rate") && i + 1 < argc) rate = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--pcm FILE.f32 --rate HZ] [--seconds S] [--repeat N]\n", argv[0]);
      return 2;
    }
  }
  std::vector<float> x;
  if (!pcm.empty()) {
    std::ifstream f(pcm, std::ios::binary);
    f.seekg(0, std::ios::end);
    x.resize(static_cast<size_t>(f.tellg()) / sizeof(float));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float)));
    if (!f || x.empty()) {
      std::fprintf(stderr, "cannot read %s\n", pcm.c_str());
      return 2;
    }
  } else {
    x = resample_support::MusicLike(static_cast<size_t>(seconds * rate), rate, 7);
  }
  const double dur = static_cast<double>(x.size()) / rate;
  std::printf("resampler bench: %.1f s at %.0f Hz (%s), best of %d, load average before: %s\n", dur, rate,
              pcm.empty() ? "synthetic" : pcm.c_str(), repeat, LoadAverage().c_str());
  std::printf("  (wall = elapsed, cpu = process CPU time of all its threads; best of the runs; on a loaded machine\n"
              "   the one-thread cpu column is the fair one, the two-thread wall column shows the split)\n");
  std::vector<float> want;
  const Time t_lib = Best(repeat, [&] { want = Libsamplerate(x, rate); });
  std::printf("  libsamplerate 0.2.2 SINC_MEDIUM   wall %7.3f s  cpu %7.3f s  %6.0fx realtime (cpu)\n", t_lib.wall, t_lib.cpu,
              dur / t_lib.cpu);
  struct V {
    const char* name;
    SincDotFn fn;
    bool runs;
  };
  std::vector<V> vs = {{"generic", SincDotGeneric, true}};
#if defined(__x86_64__) || defined(_M_X64)
  vs.push_back({"avx2", SincDotAvx2, CpuHasAvx2Fma()});
  vs.push_back({"avx512", SincDotAvx512, CpuHasAvx512f()});
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  vs.push_back({"neon", SincDotNeon, true});
#endif
#if defined(__wasm_simd128__)
  vs.push_back({"wasm128", SincDotWasm128, CpuHasWasm128()});
#endif
  for (const V& v : vs) {
    if (!v.runs) {
      std::printf("  ours %-8s: SKIP (this CPU cannot run it)\n", v.name);
      continue;
    }
    for (int threads : {1, 2}) {
      std::vector<float> got;
      const Time t = Best(repeat, [&] { got = resample_support::Ours(x, rate, threads, v.fn, kChunk); });
      const bool same = got.size() == want.size() && std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0;
      std::printf("  ours %-8s %d thread%s    wall %7.3f s  cpu %7.3f s  library/ours: wall %5.2fx  cpu %5.2fx  %s\n", v.name,
                  threads, threads > 1 ? "s" : " ", t.wall, t.cpu, t_lib.wall / t.wall, t_lib.cpu / t.cpu,
                  same ? "bit-identical" : "DIFFERS");
    }
  }
  std::printf("load average after: %s\n", LoadAverage().c_str());
  return 0;
}
