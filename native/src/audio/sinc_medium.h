// SPDX-License-Identifier: MIT
// libsamplerate 0.2.2's SRC_SINC_MEDIUM_QUALITY converter (mono, constant ratio), reproduced bit
// for bit and split in two:
//  - SincPlan: the cheap sequential part, libsamplerate's own state machine (src_sinc.c:
//    sinc_mono_vari_process + prepare_data) without the samples: the position/phase recurrence
//    in double, the buffer refills, the end-of-input zero tail and the termination rule. For
//    each output sample it gives the stream index of the filter's centre and its start phase.
//    The stream is the library's buffer content unrolled: half_len zeros, the input, zeros
//    (`half_len` = the library's half_filter_chan_len).
//  - SincDot*: the dot products, independent per output sample (so they can be split across
//    threads in any way without changing a bit), in libsamplerate's exact arithmetic: per tap
//    icoeff = c[i] + fraction * float(c[i+1] - c[i]) in double, left and right halves summed
//    in double from the outermost tap inwards, out = float(scale * (left + right)).
//    The SIMD variants put one output sample in each lane (the lanes never exchange values),
//    align the lanes' innermost taps and mask the lanes that have one tap fewer; every unit is
//    compiled with -ffp-contract=off and without fast-math, so no FMA merges two roundings.
// The coefficient table is libsamplerate's src/mid_qual_coeffs.h, compiled from its pinned
// source (native/cmake/audio.cmake); it is never copied into this repository.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chaarfm {

// The filter table in the form the kernels read: pair i = {c[i], float(c[i+1] - c[i])}, the
// difference computed once with the library's float subtraction; zero pairs past the end.
struct SincTable {
  const float* pairs;     // 2 * size floats
  int size;               // pairs, including the zero padding
  int half_len;           // libsamplerate's coeff_half_len (22436)
  int index_inc;          // its increment (491)
};
const SincTable& SincMediumTable();

// What the dot-product kernels need to know about the ratio (constant over a stream).
struct SincParams {
  int32_t increment;      // libsamplerate's fixed-point increment (12 fractional bits)
  int32_t max_index;      // half_len << 12
  double scale;           // float_increment / index_inc
};

// out[j] for j in [0, n): `center[j]` indexes `v` at the filter's centre (the library's
// b_current), `phase[j]` is its start_filter_index. `v` must hold the taps' samples: indices
// center - (max_index / increment) - 1 .. center + (max_index / increment) + 2.
using SincDotFn = void (*)(const SincTable& t, const SincParams& p, const float* v, const int32_t* center,
                           const int32_t* phase, size_t n, float* out);
void SincDotGeneric(const SincTable&, const SincParams&, const float*, const int32_t*, const int32_t*, size_t, float*);
#if defined(__x86_64__) || defined(_M_X64)
void SincDotAvx2(const SincTable&, const SincParams&, const float*, const int32_t*, const int32_t*, size_t, float*);
void SincDotAvx512(const SincTable&, const SincParams&, const float*, const int32_t*, const int32_t*, size_t, float*);
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
void SincDotNeon(const SincTable&, const SincParams&, const float*, const int32_t*, const int32_t*, size_t, float*);
#endif
#if defined(__wasm_simd128__)
void SincDotWasm128(const SincTable&, const SincParams&, const float*, const int32_t*, const int32_t*, size_t, float*);
#endif
// The best variant this CPU runs (cpu_features), and its name ("avx512", "avx2", "neon", "wasm128", "generic").
SincDotFn SincDotBest();
const char* SincDotBestName();

// libsamplerate's mono state machine for one stream, fed as src_process calls. Stream indices
// are absolute (0 = the first of the half_len leading zeros); input sample k is index half_len + k.
class SincPlan {
 public:
  explicit SincPlan(double src_ratio);  // src_ratio within [1/256, 256], != 1 (checked by the caller)

  const SincParams& params() const { return params_; }
  int half_len() const { return half_; }

  // One src_process(input_frames = n, end_of_input) call with an output buffer large enough for
  // all it can give; appends the outputs' centres and phases. Returns the input frames used.
  // The library's result does not depend on how its output buffer splits a call, so this is
  // the same as the loop in which the caller drains it.
  size_t Process(size_t n, bool end_of_input, std::vector<int64_t>* center, std::vector<int32_t>* phase);

  int64_t input_fed() const { return fed_; }  // input samples taken into the buffer so far
  int64_t next_center() const { return offset_ + b_current_; }  // no later output has a smaller centre
  int64_t zeros_end() const { return zeros_end_; }  // stream index past the end-of-input zeros (-1 before)

 private:
  void PrepareData(size_t in_count, size_t* in_used, bool end_of_input);

  double ratio_;
  SincParams params_;
  int half_;                 // half_filter_chan_len
  int b_len_;
  int b_current_ = 0, b_end_ = 0, b_real_end_ = -1;
  int64_t offset_ = 0;       // stream index of buffer[0]
  double last_position_ = 0.0;
  int64_t fed_ = 0;
  int64_t zeros_end_ = -1;
};

}  // namespace chaarfm
