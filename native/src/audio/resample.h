// SPDX-License-Identifier: MIT
// Streaming resampler to 16 kHz reproducing Essentia's streaming Resample (inside MonoLoader)
// and so src/audio/resample.ts sample for sample, i.e. libsamplerate 0.2.2's
// SRC_SINC_MEDIUM_QUALITY as Essentia feeds it, computed by our own converter (sinc_medium.h,
// bit-identical to the library; the library is linked only into its test):
//  - ratio = float32(16000 / inputRate), used as that exact value;
//  - ratio exactly 1: samples are copied, no converter;
//  - input goes to the converter in blocks of 4096 samples with end_of_input = 0; at the end the
//    remainder (< 4096) goes in one call with end_of_input = 1, flushing the filter tail; when
//    nothing remains (length a multiple of 4096) the tail is NOT flushed (Essentia's quirk).
// Each Push runs the sequential plan for its whole blocks, then the dot products of all the
// outputs they gave, split over `threads` threads (the calling one and threads - 1 of its own);
// every output is computed by itself, so the samples are the same for every thread count and
// every chunking. Memory: the Push's samples plus the filter's reach (~2 x 126 samples at
// 44.1 kHz). Plain synchronous C++; not thread-safe per instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "audio/sinc_medium.h"

namespace chaarfm {

class ThreadPool;

constexpr int kTargetRate = 16000;
constexpr size_t kEssentiaBlock = 4096;

// float32(16000 / rate), as Essentia computes it.
float EssentiaRatio(double input_rate);

class Resampler {
 public:
  // throws std::invalid_argument for a bad rate; `dot` = nullptr: the best variant for this CPU
  explicit Resampler(double input_rate, int threads = 1, SincDotFn dot = nullptr);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Feeds mono samples at the input rate; appends the 16 kHz samples now ready to `out`.
  void Push(const float* in, size_t n, std::vector<float>* out);
  // Ends the stream; appends the last samples (the tail, by Essentia's rule). Idempotent.
  void End(std::vector<float>* out);

  bool passthrough() const { return !plan_; }
  float ratio() const { return ratio_; }
  size_t input_samples() const { return in_count_; }
  size_t output_samples() const { return out_count_; }

 private:
  void Append(const float* x, size_t n);  // x == nullptr: zeros
  void Convert(size_t n, bool end_of_input);
  void Compute(std::vector<float>* out);

  static constexpr size_t kPad = 64;  // zeros on both sides of the window (masked SIMD lanes)

  float ratio_;
  std::unique_ptr<SincPlan> plan_;
  SincDotFn dot_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<float> block_;
  size_t filled_ = 0;
  size_t in_count_ = 0;
  size_t out_count_ = 0;
  bool ended_ = false;
  // the stream window: window_[i] is stream index base_ + i; [0, valid_) then kPad zeros
  std::vector<float> window_;
  int64_t base_ = 0;
  size_t valid_ = 0;
  std::vector<int64_t> centers_;
  std::vector<int32_t> phases_, local_;
};

}  // namespace chaarfm
