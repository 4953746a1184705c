// SPDX-License-Identifier: MIT
// What the resampler's C++ test (native/test/resample_test.cc) and its bench
// (bench/kernels/resample_bench.cc) share: the synthetic music-like signal, libsamplerate 0.2.2
// driven exactly as native/src/audio/resample.cc drove it before it had a converter of its own
// (Essentia's way: 4096-sample blocks, the float32 ratio, the tail flushed only after a partial
// block), and our Resampler fed in chunks. Header-only; both programs link chaarfm_audio and
// libsamplerate.
#ifndef CHAARFM_TEST_RESAMPLE_SUPPORT_H_
#define CHAARFM_TEST_RESAMPLE_SUPPORT_H_

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "audio/resample.h"
#include "audio/sinc_medium.h"

namespace chaarfm::resample_support {

// pi, spelt out: M_PI is POSIX, not C++17 (mingw-w64 and MSVC lack it)
constexpr double kPi = 3.14159265358979323846;

// n samples at `rate` Hz: two tones, a decaying 55 Hz beat every half second, and noise from an
// LCG started at `seed` (the test uses 12345, the bench 7).
inline std::vector<float> MusicLike(size_t n, double rate, uint32_t seed) {
  std::vector<float> x(n);
  uint32_t s = seed;
  for (size_t i = 0; i < n; i++) {
    const double t = static_cast<double>(i) / rate;
    s = s * 1664525u + 1013904223u;
    x[i] = static_cast<float>(0.3 * std::sin(2 * kPi * 220 * t) + 0.2 * std::sin(2 * kPi * 3951.07 * t) +
                              0.25 * std::sin(2 * kPi * 55 * t) * std::exp(-6 * std::fmod(t, 0.5)) +
                              0.1 * (s / 4294967296.0 - 0.5));
  }
  return x;
}

// libsamplerate's SRC_SINC_MEDIUM_QUALITY on x, fed as Essentia feeds it; x itself at 16 kHz.
inline std::vector<float> Libsamplerate(const std::vector<float>& x, double rate) {
  const float ratio = EssentiaRatio(rate);
  if (ratio == 1.f) return x;
  int err = 0;
  SRC_STATE* st = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &err);
  if (!st) throw std::runtime_error(src_strerror(err));
  std::vector<float> scratch(static_cast<size_t>(std::ceil(kEssentiaBlock * static_cast<double>(ratio))) + 1024);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(x.size() * static_cast<double>(ratio)) + 1024);
  auto convert = [&](const float* in, size_t n, bool eoi) {
    SRC_DATA d{};
    d.src_ratio = static_cast<double>(ratio);
    d.end_of_input = eoi ? 1 : 0;
    size_t used = 0;
    for (;;) {
      d.data_in = in + used;
      d.input_frames = static_cast<long>(n - used);
      d.data_out = scratch.data();
      d.output_frames = static_cast<long>(scratch.size());
      if (int e = src_process(st, &d)) {
        src_delete(st);
        throw std::runtime_error(src_strerror(e));
      }
      used += static_cast<size_t>(d.input_frames_used);
      out.insert(out.end(), scratch.begin(), scratch.begin() + d.output_frames_gen);
      if (used >= n && d.output_frames_gen == 0) break;
      if (used >= n && !eoi) break;
      if (d.input_frames_used == 0 && d.output_frames_gen == 0) break;
    }
  };
  size_t pos = 0;
  for (; pos + kEssentiaBlock <= x.size(); pos += kEssentiaBlock) convert(x.data() + pos, kEssentiaBlock, false);
  if (pos < x.size()) convert(x.data() + pos, x.size() - pos, true);
  src_delete(st);
  return out;
}

// Our Resampler on x with `threads` and the dot-product variant fn, pushed `chunk` samples at a
// time; throws when output_samples() disagrees with what came out.
inline std::vector<float> Ours(const std::vector<float>& x, double rate, int threads, SincDotFn fn, size_t chunk) {
  Resampler r(rate, threads, fn);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(x.size() * static_cast<double>(r.ratio())) + 1024);
  for (size_t pos = 0; pos < x.size(); pos += chunk) r.Push(x.data() + pos, std::min(chunk, x.size() - pos), &out);
  r.End(&out);
  if (r.output_samples() != out.size()) throw std::runtime_error("output_samples() disagrees with the output");
  return out;
}

}  // namespace chaarfm::resample_support

#endif  // CHAARFM_TEST_RESAMPLE_SUPPORT_H_
