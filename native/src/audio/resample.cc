// SPDX-License-Identifier: MIT
// See resample.h. libsamplerate's output does not depend on how the input is split between
// src_process calls, so the only thing the 4096-sample blocks decide is the end-of-stream rule.
#include "audio/resample.h"

#include <samplerate.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace chaarfm {

float EssentiaRatio(double input_rate) {
  return static_cast<float>(16000.f / static_cast<float>(input_rate));
}

Resampler::Resampler(double input_rate) : ratio_(0.f) {
  if (!std::isfinite(input_rate) || input_rate <= 0) {
    throw std::invalid_argument("Expected a positive sample rate for sampleRate but received " +
                                std::to_string(input_rate));
  }
  ratio_ = EssentiaRatio(input_rate);
  if (ratio_ == 1.f) return;
  if (!(ratio_ >= 1.f / 256 && ratio_ <= 256.f)) {
    throw std::invalid_argument("Expected an input rate within 256x of 16000 Hz for sampleRate but received " +
                                std::to_string(input_rate));
  }
  int err = 0;
  state_ = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &err);
  if (!state_) throw std::runtime_error(std::string("libsamplerate: ") + src_strerror(err));
  block_.resize(kEssentiaBlock);
  scratch_.resize(static_cast<size_t>(std::ceil(kEssentiaBlock * static_cast<double>(ratio_))) + 1024);
}

Resampler::~Resampler() {
  if (state_) src_delete(state_);
}

void Resampler::Push(const float* in, size_t n, std::vector<float>* out) {
  if (ended_) throw std::logic_error("Resampler::Push() after End()");
  in_count_ += n;
  if (!state_) {
    out->insert(out->end(), in, in + n);
    out_count_ += n;
    return;
  }
  size_t pos = 0;
  while (pos < n) {
    size_t take = std::min(kEssentiaBlock - filled_, n - pos);
    std::copy(in + pos, in + pos + take, block_.begin() + filled_);
    filled_ += take;
    pos += take;
    if (filled_ == kEssentiaBlock) {
      Convert(block_.data(), kEssentiaBlock, false, out);
      filled_ = 0;
    }
  }
}

void Resampler::End(std::vector<float>* out) {
  if (ended_) return;
  ended_ = true;
  if (!state_ || filled_ == 0) return;  // Essentia never flushes when nothing is left
  Convert(block_.data(), filled_, true, out);
  filled_ = 0;
}

void Resampler::Convert(const float* in, size_t n, bool end_of_input, std::vector<float>* out) {
  SRC_DATA d{};
  d.src_ratio = static_cast<double>(ratio_);
  d.end_of_input = end_of_input ? 1 : 0;
  size_t used = 0;
  for (;;) {
    d.data_in = in + used;
    d.input_frames = static_cast<long>(n - used);
    d.data_out = scratch_.data();
    d.output_frames = static_cast<long>(scratch_.size());
    int err = src_process(state_, &d);
    if (err) throw std::runtime_error(std::string("libsamplerate: ") + src_strerror(err));
    used += static_cast<size_t>(d.input_frames_used);
    out->insert(out->end(), scratch_.begin(), scratch_.begin() + d.output_frames_gen);
    out_count_ += static_cast<size_t>(d.output_frames_gen);
    // done when all input is used and (at the end) the tail is drained
    if (used >= n && d.output_frames_gen == 0) break;
    if (used >= n && !end_of_input) break;
    if (d.input_frames_used == 0 && d.output_frames_gen == 0) break;
  }
}

}  // namespace chaarfm
