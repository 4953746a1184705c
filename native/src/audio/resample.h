// SPDX-License-Identifier: MIT
// Streaming resampler to 16 kHz reproducing Essentia's streaming Resample (inside MonoLoader)
// and so src/audio/resample.ts sample for sample, with libsamplerate's SRC_SINC_MEDIUM_QUALITY:
//  - ratio = float32(16000 / inputRate), given to libsamplerate as that exact value;
//  - ratio exactly 1: samples are copied, no converter;
//  - input goes to src_process in blocks of 4096 samples with end_of_input = 0; at the end the
//    remainder (< 4096) goes in one call with end_of_input = 1, flushing the filter tail; when
//    nothing remains (length a multiple of 4096) the tail is NOT flushed (Essentia's quirk).
// Plain synchronous C++; the addon calls it from worker threads. Not thread-safe per instance.
#pragma once

#include <cstddef>
#include <vector>

struct SRC_STATE_tag;

namespace chaarfm {

constexpr int kTargetRate = 16000;
constexpr size_t kEssentiaBlock = 4096;

// float32(16000 / rate), as Essentia computes it.
float EssentiaRatio(double input_rate);

class Resampler {
 public:
  explicit Resampler(double input_rate);  // throws std::invalid_argument / std::runtime_error
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Feeds mono samples at the input rate; appends the 16 kHz samples now ready to `out`.
  void Push(const float* in, size_t n, std::vector<float>* out);
  // Ends the stream; appends the last samples (the tail, by Essentia's rule). Idempotent.
  void End(std::vector<float>* out);

  bool passthrough() const { return state_ == nullptr; }
  float ratio() const { return ratio_; }
  size_t input_samples() const { return in_count_; }
  size_t output_samples() const { return out_count_; }

 private:
  void Convert(const float* in, size_t n, bool end_of_input, std::vector<float>* out);

  float ratio_;
  SRC_STATE_tag* state_ = nullptr;
  std::vector<float> block_;
  size_t filled_ = 0;
  size_t in_count_ = 0;
  size_t out_count_ = 0;
  bool ended_ = false;
  std::vector<float> scratch_;
};

}  // namespace chaarfm
