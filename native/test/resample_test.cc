// SPDX-License-Identifier: MIT
// chaarfm_resample_test: our SRC_SINC_MEDIUM resampler (native/src/audio/resample.*, sinc_medium.*)
// against libsamplerate 0.2.2 itself, linked from its pinned source, fed as Essentia feeds it
// (4096-sample blocks, float32 ratio, the tail flushed only after a partial block). Float by
// float, 0 differing samples allowed, over 10 input rates x 16 lengths x 2 signals (a synthetic
// one, and a real recording given as raw float32 by --pcm FILE, repeated to the length) x
// threads 1, 2, 3 (each with another Push chunking), for every dot-product variant, each called
// directly; a variant this CPU cannot run prints SKIP (never PASS). Exit status 1 on any failure.
//   chaarfm_resample_test [--pcm FILE.f32 [--only-recording]] [--quick] [--variant NAME]
// --quick: 4 of the 16 lengths (4095, 8192, 40960, 150001), for runs under qemu; --variant: that
// variant only (the others print SKIP).
#include <samplerate.h>

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
#include "resample_support.h"

using namespace chaarfm;
using resample_support::Libsamplerate;
using resample_support::Ours;

namespace {

std::vector<float> Repeat(const std::vector<float>& rec, size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; i++) x[i] = rec[i % rec.size()];
  return x;
}

struct Variant {
  const char* name;
  SincDotFn fn;
  bool runs;
};

}  // namespace

int main(int argc, char** argv) {
  std::string pcm;
  bool quick = false, only_recording = false;
  std::string only_variant;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--pcm") && i + 1 < argc) pcm = argv[++i];
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--only-recording")) only_recording = true;
    else if (!std::strcmp(argv[i], "--variant") && i + 1 < argc) only_variant = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--pcm FILE.f32 [--only-recording]] [--quick] [--variant NAME]\n", argv[0]);
      return 2;
    }
  }
  std::vector<float> rec;
  if (!pcm.empty()) {
    std::ifstream f(pcm, std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto bytes = static_cast<size_t>(f.tellg());
    f.seekg(0);
    rec.resize(bytes / sizeof(float));
    f.read(reinterpret_cast<char*>(rec.data()), static_cast<std::streamsize>(rec.size() * sizeof(float)));
    if (!f || rec.empty()) {
      std::fprintf(stderr, "cannot read float32 samples from %s\n", pcm.c_str());
      return 2;
    }
  }
  std::vector<Variant> variants = {{"generic", SincDotGeneric, true}};
#if defined(__x86_64__) || defined(_M_X64)
  variants.push_back({"avx2", SincDotAvx2, CpuHasAvx2Fma()});
  variants.push_back({"avx512", SincDotAvx512, CpuHasAvx512f()});
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  variants.push_back({"neon", SincDotNeon, true});
#endif
#if defined(__wasm_simd128__)
  variants.push_back({"wasm128", SincDotWasm128, CpuHasWasm128()});
#endif
  bool known = only_variant.empty();
  for (Variant& v : variants) {
    if (!only_variant.empty() && only_variant != v.name) v.runs = false;
    known |= only_variant == v.name;
  }
  if (!known) {
    std::fprintf(stderr, "no variant %s in this build\n", only_variant.c_str());
    return 2;
  }
  const double rates[] = {8000, 11025, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 192000};
  const size_t lengths[] = {1, 7, 4095, 4096, 4097, 8191, 8192, 12288, 16385, 30000, 40960, 65536, 77777, 131072, 150001, 262144};
  const size_t chunks[] = {0, 1000, 3 * 4096 + 5};  // per thread count 1, 2, 3; 0: the whole signal in one Push
  int failures = 0;
  size_t cases = 0, compared = 0;
  std::vector<int> ran(variants.size(), 0);
  for (int sig = only_recording ? 1 : 0; sig < 2; sig++) {
    if (sig == 1 && rec.empty()) {
      std::printf("SKIP recording: no --pcm file given\n");
      continue;
    }
    for (double rate : rates) {
      for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        if (quick && li % 4 != 2) continue;
        const size_t n = lengths[li];
        const std::vector<float> x = sig == 0 ? resample_support::MusicLike(n, rate, 12345) : Repeat(rec, n);
        const std::vector<float> want = Libsamplerate(x, rate);
        for (size_t v = 0; v < variants.size(); v++) {
          if (!variants[v].runs) continue;
          for (int threads = 1; threads <= 3; threads++) {
            const size_t chunk = chunks[threads - 1] ? chunks[threads - 1] : (n ? n : 1);
            const std::vector<float> got = Ours(x, rate, threads, variants[v].fn, chunk);
            cases++;
            size_t diff = 0;
            const size_t m = std::min(got.size(), want.size());
            for (size_t i = 0; i < m; i++) diff += std::memcmp(&got[i], &want[i], sizeof(float)) != 0;
            compared += m;
            if (got.size() != want.size() || diff) {
              if (failures < 20) {
                std::printf("FAIL %s %s rate %.0f length %zu threads %d: %zu vs %zu samples, %zu differ\n",
                            variants[v].name, sig ? "recording" : "synthetic", rate, n, threads, got.size(),
                            want.size(), diff);
              }
              failures++;
            }
            ran[v]++;
          }
        }
      }
    }
  }
  for (size_t v = 0; v < variants.size(); v++) {
    if (variants[v].runs && ran[v] == 0) failures++;  // nothing compared is not a pass
  }
  for (size_t v = 0; v < variants.size(); v++) {
    if (!variants[v].runs) {
      std::printf("SKIP %s: %s\n", variants[v].name, only_variant.empty() ? "this CPU cannot run it" : "not selected (--variant)");
    } else {
      std::printf("%s %s: %d cases vs libsamplerate\n", failures ? "RAN " : "PASS", variants[v].name, ran[v]);
    }
  }
  std::printf("best variant here: %s\n", SincDotBestName());
  std::printf("%zu cases, %zu samples compared, %d failures\n", cases, compared, failures);
  return failures ? 1 : 0;
}
