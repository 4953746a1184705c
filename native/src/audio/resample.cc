// SPDX-License-Identifier: MIT
// See resample.h. The converter's output does not depend on how the input is split between its
// calls, so the only thing the 4096-sample blocks decide is the end-of-stream rule; the plan is
// still fed exactly those calls (SincPlan::Process as src_process, in the loop with which the
// library-based version drained it).
#include "audio/resample.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/parallel.h"

namespace chaarfm {

namespace {
constexpr size_t kTaskOutputs = 2048;  // outputs per task of the thread split
}

float EssentiaRatio(double input_rate) {
  return static_cast<float>(16000.f / static_cast<float>(input_rate));
}

Resampler::Resampler(double input_rate, int threads, SincDotFn dot) : ratio_(0.f) {
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
  plan_ = std::make_unique<SincPlan>(static_cast<double>(ratio_));
  dot_ = dot ? dot : SincDotBest();
  if (threads > 1) pool_ = std::make_unique<ThreadPool>(threads);
  block_.resize(kEssentiaBlock);
  // the stream starts with the filter's half length of zeros (the library's initial buffer)
  base_ = -static_cast<int64_t>(kPad);
  window_.assign(kPad, 0.f);
  valid_ = kPad;
  Append(nullptr, static_cast<size_t>(plan_->half_len()));
}

Resampler::~Resampler() = default;

void Resampler::Append(const float* x, size_t n) {
  window_.resize(valid_ + n + kPad);
  if (x) {
    std::copy(x, x + n, window_.begin() + static_cast<ptrdiff_t>(valid_));
  } else {
    std::fill(window_.begin() + static_cast<ptrdiff_t>(valid_), window_.begin() + static_cast<ptrdiff_t>(valid_ + n), 0.f);
  }
  std::fill(window_.begin() + static_cast<ptrdiff_t>(valid_ + n), window_.end(), 0.f);
  valid_ += n;
}

void Resampler::Push(const float* in, size_t n, std::vector<float>* out) {
  if (ended_) throw std::logic_error("Resampler::Push() after End()");
  in_count_ += n;
  if (!plan_) {
    out->insert(out->end(), in, in + n);
    out_count_ += n;
    return;
  }
  size_t pos = 0;
  while (pos < n) {
    size_t take = std::min(kEssentiaBlock - filled_, n - pos);
    std::copy(in + pos, in + pos + take, block_.begin() + static_cast<ptrdiff_t>(filled_));
    filled_ += take;
    pos += take;
    if (filled_ == kEssentiaBlock) {
      Append(block_.data(), kEssentiaBlock);
      Convert(kEssentiaBlock, false);
      filled_ = 0;
    }
  }
  Compute(out);
}

void Resampler::End(std::vector<float>* out) {
  if (ended_) return;
  ended_ = true;
  if (!plan_ || filled_ == 0) return;  // Essentia never flushes when nothing is left
  Append(block_.data(), filled_);
  Append(nullptr, static_cast<size_t>(plan_->half_len()) + 8);  // the end-of-input zeros
  Convert(filled_, true);
  filled_ = 0;
  Compute(out);
}

void Resampler::Convert(size_t n, bool end_of_input) {
  size_t used = 0;
  for (;;) {
    const size_t before = centers_.size();
    const size_t u = plan_->Process(n - used, end_of_input, &centers_, &phases_);
    used += u;
    const size_t gen = centers_.size() - before;
    if (used >= n && gen == 0) break;
    if (used >= n && !end_of_input) break;
    if (u == 0 && gen == 0) break;
  }
}

void Resampler::Compute(std::vector<float>* out) {
  const size_t n = centers_.size();
  if (n > 0) {
    local_.resize(n);
    for (size_t j = 0; j < n; j++) local_[j] = static_cast<int32_t>(centers_[j] - base_);
    const size_t at = out->size();
    out->resize(at + n);
    float* y = out->data() + at;
    const SincTable& t = SincMediumTable();
    const SincParams& p = plan_->params();
    const size_t tasks = (n + kTaskOutputs - 1) / kTaskOutputs;
    auto task = [&](size_t i) {
      const size_t a = i * kTaskOutputs, len = std::min(kTaskOutputs, n - a);
      dot_(t, p, window_.data(), local_.data() + a, phases_.data() + a, len, y + a);
    };
    if (pool_ && tasks > 1) {
      pool_->ParallelFor(tasks, task);
    } else {
      for (size_t i = 0; i < tasks; i++) task(i);
    }
    out_count_ += n;
    centers_.clear();
    phases_.clear();
  }
  // drop what no later output reaches (it starts at most half_len before its centre)
  const int64_t keep = plan_->next_center() - plan_->half_len() - static_cast<int64_t>(kPad);
  const int64_t drop = keep - base_;
  if (drop > static_cast<int64_t>(1) << 15 && static_cast<size_t>(drop) < valid_) {
    window_.erase(window_.begin(), window_.begin() + static_cast<ptrdiff_t>(drop));
    valid_ -= static_cast<size_t>(drop);
    base_ += drop;
  }
}

}  // namespace chaarfm
