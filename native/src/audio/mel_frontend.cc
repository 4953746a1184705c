// SPDX-License-Identifier: MIT
// See mel_frontend.h. Every float32 rounding of MelReference (Math.fround) is a float
// assignment here; this file is compiled with -ffp-contract=off so no FMA merges two roundings.
#include "audio/mel_frontend.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace chaarfm {

// ---- FrameCutter ----------------------------------------------------------------------------

size_t FrameCutter::Push(const float* in, size_t n, std::vector<float>* frames) {
  if (ended_) throw std::logic_error("FrameCutter::Push() after End()");
  // drop samples no later frame needs: frame `next_` starts at 256 * next_ - 256
  size_t keep_from = next_ > 0 ? (next_ - 1) * kHopSize : 0;
  if (keep_from > buf_start_) {
    size_t drop = std::min(buf_.size(), keep_from - buf_start_);
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(drop));
    buf_start_ += drop;
  }
  buf_.insert(buf_.end(), in, in + n);
  total_ += n;
  // frame k is complete once sample 256k + 255 is in
  size_t complete = total_ / kHopSize;
  return Emit(complete > next_ ? complete - next_ : 0, frames);
}

size_t FrameCutter::End(std::vector<float>* frames) {
  if (ended_) return 0;
  ended_ = true;
  size_t want = FrameCount(total_);
  return Emit(want > next_ ? want - next_ : 0, frames);
}

size_t FrameCutter::Emit(size_t count, std::vector<float>* frames) {
  size_t at = frames->size();
  frames->resize(at + count * kFrameSize, 0.f);
  const long long buf_end = static_cast<long long>(buf_start_ + buf_.size());
  for (size_t f = 0; f < count; f++, next_++) {
    long long start = static_cast<long long>(next_) * kHopSize - kHopSize;
    long long from = std::max(start, static_cast<long long>(buf_start_));
    long long to = std::min(start + kFrameSize, buf_end);
    float* dst = frames->data() + at + f * kFrameSize;
    if (to > from) {
      std::copy(buf_.begin() + (from - static_cast<long long>(buf_start_)),
                buf_.begin() + (to - static_cast<long long>(buf_start_)), dst + (from - start));
    }
  }
  return count;
}

// ---- filter bank (Essentia's melbands.cpp + triangularbands.cpp in float32) -----------------

namespace {

// pi as a double (the value of POSIX's M_PI, which strict C++17, MSVC and mingw do not define)
constexpr double kPi = 3.14159265358979323846;
constexpr int kSampleRate = 16000;
const float kLinSlope = static_cast<float>(3.0 / 200.0);
constexpr float kMinLogHz = 1000.f;
const float kMinLogMel = static_cast<float>(1000.0 * static_cast<double>(kLinSlope));
const float kLogStep = static_cast<float>(std::log(6.4) / 27.0);

// correctly rounded float log/exp, computed in double then rounded, as the TS reference does
float LogF(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }
float ExpF(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }

float Hz2MelSlaney(float hz) {
  if (hz < kMinLogHz) return hz * kLinSlope;
  float q = hz / kMinLogHz;
  float l = LogF(q);
  float d = l / kLogStep;
  return kMinLogMel + d;
}

float Mel2HzSlaney(float mel) {
  if (mel < kMinLogMel) return mel / kLinSlope;
  float a = mel - kMinLogMel;
  float b = a * kLogStep;
  float e = ExpF(b);
  return kMinLogHz * e;
}

}  // namespace

MelFrontend::MelFrontend() {
  const int n = kFrameSize;
  for (int i = 0; i < n; i++) window_[i] = static_cast<float>(0.5 - 0.5 * std::cos((2 * kPi * i) / (n - 1)));
  for (int k = 0; k < n / 2; k++) {
    cos_[k] = std::cos((2 * kPi * k) / n);
    sin_[k] = std::sin((2 * kPi * k) / n);
  }
  const int half = n / 2;
  int bits = 0;
  while ((1 << bits) < half) bits++;
  for (int i = 0; i < half; i++) {
    int r = 0;
    for (int b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitrev_[i] = r;
  }

  const float lo = Hz2MelSlaney(0.f);
  const float hi = Hz2MelSlaney(static_cast<float>(kSampleRate / 2));
  const float inc = (hi - lo) / static_cast<float>(kMelBands + 1);
  float freqs[kMelBands + 2];
  float mel = lo;
  for (int i = 0; i < kMelBands + 2; i++) {
    freqs[i] = Mel2HzSlaney(mel);
    mel = mel + inc;
  }
  const float scale = static_cast<float>(kSampleRate / 2) / static_cast<float>(kSpectrumBins - 1);
  for (int b = 0; b < kMelBands; b++) {
    const float f0 = freqs[b], f1 = freqs[b + 1], f2 = freqs[b + 2];
    const float step1 = f1 - f0;
    const float step2 = f2 - f1;
    float q0 = f0 / scale, q2 = f2 / scale;
    begin_[b] = static_cast<int>(std::ceil(q0));
    end_[b] = static_cast<int>(std::floor(q2));
    if (end_[b] >= kSpectrumBins) throw std::runtime_error("mel filter bank exceeds the spectrum");
    float sum = step1 + step2;
    const float norm = sum / 2.f;  // unit_tri: the triangle's area
    offset_[b] = static_cast<int>(weights_.size());
    for (int j = begin_[b]; j <= end_[b]; j++) {
      const float bin = static_cast<float>(j) * scale;
      float w;
      if (bin < f1) {
        float d = bin - f0;
        w = d / step1;
      } else {
        float d = f2 - bin;
        w = d / step2;
      }
      weights_.push_back(w / norm);
    }
  }
  offset_[kMelBands] = static_cast<int>(weights_.size());
}

void MelFrontend::Spectrum(const float* frame) {
  const int n = kFrameSize;
  const int half = n / 2;
  // zero phase: windowed[i] = frame[(i + 256) % 512] * w[(i + 256) % 512], in float32
  for (int i = 0; i < half; i++) {
    const int a = (2 * i + half) % n;
    const int b = (2 * i + 1 + half) % n;
    const int r = bitrev_[i];
    float va = frame[a] * window_[a];
    float vb = frame[b] * window_[b];
    re_[r] = va;
    im_[r] = vb;
  }
  for (int size = 2; size <= half; size *= 2) {
    const int step = n / size;
    const int h = size / 2;
    for (int start = 0; start < half; start += size) {
      for (int k = 0; k < h; k++) {
        const double c = cos_[k * step];
        const double s = -sin_[k * step];
        const int i0 = start + k;
        const int i1 = i0 + h;
        const double tr = re_[i1] * c - im_[i1] * s;
        const double ti = re_[i1] * s + im_[i1] * c;
        re_[i1] = re_[i0] - tr;
        im_[i1] = im_[i0] - ti;
        re_[i0] += tr;
        im_[i0] += ti;
      }
    }
  }
  for (int k = 0; k <= half; k++) {
    const int k1 = k % half;
    const int k2 = (half - k) % half;
    const double er = 0.5 * (re_[k1] + re_[k2]);
    const double ei = 0.5 * (im_[k1] - im_[k2]);
    const double orr = 0.5 * (im_[k1] + im_[k2]);
    const double oi = -0.5 * (re_[k1] - re_[k2]);
    const double c = k < half ? cos_[k] : -1.0;
    const double s = k < half ? -sin_[k] : 0.0;
    const double xr = er + orr * c - oi * s;
    const double xi = ei + orr * s + oi * c;
    mag_[k] = static_cast<float>(std::sqrt(xr * xr + xi * xi));
  }
}

void MelFrontend::ComputeFrame(const float* frame, float* bands) {
  Spectrum(frame);
  for (int b = 0; b < kMelBands; b++) {
    float sum = 0.f;
    for (int j = begin_[b], w = offset_[b]; j <= end_[b]; j++, w++) {
      float p = mag_[j] * mag_[j];
      float t = p * weights_[w];
      sum = sum + t;
    }
    float scaled = sum * 10000.f;
    float x = scaled + 1.f;
    if (x < 1e-30f) x = 1e-30f;
    bands[b] = static_cast<float>(std::log10(static_cast<double>(x)));
  }
}

void MelFrontend::Compute(const float* frames, size_t count, float* bands) {
  for (size_t f = 0; f < count; f++) ComputeFrame(frames + f * kFrameSize, bands + f * kMelBands);
}

}  // namespace chaarfm
