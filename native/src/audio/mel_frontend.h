// SPDX-License-Identifier: MIT
// The MusiCNN front end after resampling, a port of src/embed/frames.ts (FrameCutter) and of
// MelReference in src/embed/mel.ts, with the same float32/double choices at every step:
//   frames  512 samples, hop 256, first frame centred on sample 0, zero padding, the last
//           frame the first whose centre is at or past the end (ceil(N/256)+1 frames);
//   window  hann w[i] = float(0.5 - 0.5 cos(2 pi i / 511)), zero phase (rotated by 256);
//   FFT     512-point real FFT as a 256-point complex radix-2 FFT in double, |X| to float;
//   mel     96 slaney bands 0-8000 Hz, unit_tri, power; sums in float32;
//   log     float(log10(max(1e-30, float(float(sum * 1e4) + 1)))).
// Plain synchronous C++, no allocation per frame; not thread-safe per instance.
#pragma once

#include <cstddef>
#include <vector>

namespace chaarfm {

constexpr int kFrameSize = 512;
constexpr int kHopSize = 256;
constexpr int kMelBands = 96;
constexpr int kSpectrumBins = kFrameSize / 2 + 1;

// How many frames Essentia cuts from `samples` samples.
inline size_t FrameCount(size_t samples) { return samples > 0 ? (samples + kHopSize - 1) / kHopSize + 1 : 0; }

class FrameCutter {
 public:
  // Feeds samples; appends every frame now complete (count x 512) to `frames`; returns the count.
  size_t Push(const float* in, size_t n, std::vector<float>* frames);
  // Ends the stream; appends the remaining zero-padded frames. Idempotent.
  size_t End(std::vector<float>* frames);
  size_t samples() const { return total_; }
  size_t frames() const { return next_; }

 private:
  size_t Emit(size_t count, std::vector<float>* frames);
  std::vector<float> buf_;  // samples [buf_start_, buf_start_ + buf_.size())
  size_t buf_start_ = 0;
  size_t next_ = 0;
  size_t total_ = 0;
  bool ended_ = false;
};

class MelFrontend {
 public:
  MelFrontend();
  // One frame of 512 samples to 96 log-compressed mel bands.
  void ComputeFrame(const float* frame, float* bands);
  // count frames (count x 512) to count x 96.
  void Compute(const float* frames, size_t count, float* bands);

 private:
  void Spectrum(const float* frame);
  float window_[kFrameSize];
  double cos_[kFrameSize / 2], sin_[kFrameSize / 2];
  int bitrev_[kFrameSize / 2];
  double re_[kFrameSize / 2], im_[kFrameSize / 2];
  float mag_[kSpectrumBins];
  int begin_[kMelBands], end_[kMelBands], offset_[kMelBands + 1];
  std::vector<float> weights_;
};

}  // namespace chaarfm
