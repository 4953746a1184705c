// SPDX-License-Identifier: MIT
// See sinc_medium.h. The plan below follows src_sinc.c (libsamplerate 0.2.2) line by line for
// one channel and a constant ratio; the comments name the library's variables.
#include "audio/sinc_medium.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cpu_features.h"

namespace chaarfm {

namespace {

constexpr int kShiftBits = 12;
constexpr double kFpOne = static_cast<double>(int32_t{1} << kShiftBits);
constexpr double kInvFpOne = 1.0 / kFpOne;

int32_t DoubleToFp(double x) { return static_cast<int32_t>(std::lrint(x * kFpOne)); }

double FmodOne(double x) {  // common.h
  double res = x - static_cast<double>(std::lrint(x));
  if (res < 0.0) return res + 1.0;
  return res;
}

}  // namespace

// ---- the plan ----------------------------------------------------------------------------------

SincPlan::SincPlan(double src_ratio) : ratio_(src_ratio) {
  const SincTable& t = SincMediumTable();
  // sinc_filter_new: b_len = 3 * lrint ((coeff_half_len + 2.0) / index_inc * SRC_MAX_RATIO + 1), >= 4096, + 1
  b_len_ = 3 * static_cast<int>(std::lrint((t.half_len + 2.0) / t.index_inc * 256 + 1));
  b_len_ = std::max(b_len_, 4096) + 1;
  // sinc_mono_vari_process: count = (coeff_half_len + 2.0) / index_inc, / ratio when < 1
  double count = (t.half_len + 2.0) / t.index_inc;
  if (src_ratio < 1.0) count /= src_ratio;
  half_ = static_cast<int>(std::lrint(count) + 1);
  const double float_increment = t.index_inc * (src_ratio < 1.0 ? src_ratio : 1.0);
  params_.increment = DoubleToFp(float_increment);
  params_.max_index = t.half_len << kShiftBits;
  params_.scale = float_increment / t.index_inc;
}

size_t SincPlan::Process(size_t n, bool end_of_input, std::vector<int64_t>* center, std::vector<int32_t>* phase) {
  size_t in_used = 0;
  double input_index = last_position_;
  double rem = FmodOne(input_index);
  b_current_ = static_cast<int>((b_current_ + std::lrint(input_index - rem)) % b_len_);
  input_index = rem;
  const double terminate = 1.0 / ratio_ + 1e-20;
  const double float_increment = SincMediumTable().index_inc * (ratio_ < 1.0 ? ratio_ : 1.0);
  for (;;) {
    int samples_in_hand = (b_end_ - b_current_ + b_len_) % b_len_;
    if (samples_in_hand <= half_) {
      PrepareData(n, &in_used, end_of_input);
      samples_in_hand = (b_end_ - b_current_ + b_len_) % b_len_;
      if (samples_in_hand <= half_) break;
    }
    if (b_real_end_ >= 0) {
      if (b_current_ + input_index + terminate > b_real_end_) break;
    }
    const int32_t start_filter_index = DoubleToFp(input_index * float_increment);
    // calc_output_single's left half starts coeff_count taps back; the library clips at the
    // buffer's start, which the stream has as well (the leading zeros), so it must not happen
    // anywhere else. (It cannot: half_len exceeds the taps of a half by at least one.)
    if ((params_.max_index - start_filter_index) / params_.increment > b_current_) {
      throw std::logic_error("sinc plan: a left half reaches before the buffer");
    }
    center->push_back(offset_ + b_current_);
    phase->push_back(start_filter_index);
    input_index += 1.0 / ratio_;
    rem = FmodOne(input_index);
    const long next = b_current_ + std::lrint(input_index - rem);
    if (next >= b_len_) throw std::logic_error("sinc plan: the buffer position wrapped");
    b_current_ = static_cast<int>(next % b_len_);
    input_index = rem;
  }
  last_position_ = input_index;
  return in_used;
}

void SincPlan::PrepareData(size_t in_count, size_t* in_used, bool end_of_input) {
  int len = 0;
  if (b_real_end_ >= 0) return;  // terminating
  if (b_current_ == 0) {  // initial state: zeros at the start of the buffer, data after them
    len = b_len_ - 2 * half_;
    b_current_ = b_end_ = half_;
  } else if (b_end_ + half_ + 1 < b_len_) {  // load data at the current end
    len = std::max(b_len_ - b_current_ - half_, 0);
  } else {  // move the data at the end of the buffer back to its start
    len = b_end_ - b_current_;
    offset_ += b_current_ - half_;
    b_current_ = half_;
    b_end_ = b_current_ + len;
    len = std::max(b_len_ - b_current_ - half_, 0);
  }
  len = std::min(static_cast<int>(in_count - *in_used), len);
  if (len < 0 || b_end_ + len > b_len_) throw std::runtime_error("sinc plan: bad refill length");
  if (offset_ + b_end_ != half_ + fed_) throw std::logic_error("sinc plan: the buffer lost its place in the stream");
  b_end_ += len;
  *in_used += static_cast<size_t>(len);
  fed_ += len;
  if (*in_used == in_count && b_end_ - b_current_ < 2 * half_ && end_of_input) {
    if (b_len_ - b_end_ < half_ + 5) {
      len = b_end_ - b_current_;
      offset_ += b_current_ - half_;
      b_current_ = half_;
      b_end_ = b_current_ + len;
    }
    b_real_end_ = b_end_;
    len = half_ + 5;
    if (len < 0 || b_end_ + len > b_len_) len = b_len_ - b_end_;
    b_end_ += len;  // zeros
    zeros_end_ = offset_ + b_end_;
  }
}

// ---- the generic dot product: calc_output_single, per output ------------------------------------

void SincDotGeneric(const SincTable& t, const SincParams& p, const float* v, const int32_t* center,
                    const int32_t* phase, size_t n, float* out) {
  const float* pr = t.pairs;
  const int32_t inc = p.increment, maxi = p.max_index;
  for (size_t j = 0; j < n; j++) {
    const int32_t sfi = phase[j], c = center[j];
    int32_t fi = sfi;
    int32_t cc = (maxi - fi) / inc;
    fi += cc * inc;
    int32_t d = c - cc;
    double left = 0.0;
    while (fi >= 0) {
      const double fraction = (fi & ((1 << kShiftBits) - 1)) * kInvFpOne;
      const int32_t i = fi >> kShiftBits;
      const double icoeff = pr[2 * i] + fraction * pr[2 * i + 1];
      left += icoeff * v[d];
      fi -= inc;
      d++;
    }
    fi = inc - sfi;
    cc = (maxi - fi) / inc;
    fi += cc * inc;
    d = c + 1 + cc;
    double right = 0.0;
    do {
      const double fraction = (fi & ((1 << kShiftBits) - 1)) * kInvFpOne;
      const int32_t i = fi >> kShiftBits;
      const double icoeff = pr[2 * i] + fraction * pr[2 * i + 1];
      right += icoeff * v[d];
      fi -= inc;
      d--;
    } while (fi > 0);
    out[j] = static_cast<float>(p.scale * (left + right));
  }
}

// ---- dispatch ------------------------------------------------------------------------------------

SincDotFn SincDotBest() {
#if defined(__x86_64__) || defined(_M_X64)
  if (CpuHasAvx512f()) return SincDotAvx512;
  if (CpuHasAvx2Fma()) return SincDotAvx2;
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  return SincDotNeon;
#elif defined(__wasm_simd128__)
  return CpuHasWasm128() ? SincDotWasm128 : SincDotGeneric;
#else
  return SincDotGeneric;
#endif
}

const char* SincDotBestName() {
  SincDotFn f = SincDotBest();
#if defined(__x86_64__) || defined(_M_X64)
  if (f == SincDotAvx512) return "avx512";
  if (f == SincDotAvx2) return "avx2";
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  if (f == SincDotNeon) return "neon";
#endif
#if defined(__wasm_simd128__)
  if (f == SincDotWasm128) return "wasm128";
#endif
  return "generic";
}

}  // namespace chaarfm
