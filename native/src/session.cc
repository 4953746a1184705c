// SPDX-License-Identifier: MIT
// See session.h.
#include "session.h"

#include <cmath>
#include <stdexcept>

namespace chaarfm {

std::unique_ptr<MusicnnRunner> RunnerPool::Take(int threads) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[threads];
    if (!idle.empty()) {
      auto r = std::move(idle.back());
      idle.pop_back();
      return r;
    }
  }
  return std::make_unique<MusicnnRunner>(*spec_, threads);
}

void RunnerPool::Give(int threads, std::unique_ptr<MusicnnRunner> runner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& idle = idle_[threads];
  if (idle.size() < kMaxIdle) idle.push_back(std::move(runner));
}

Session::Session(std::shared_ptr<RunnerPool> pool, double sample_rate, int threads)
    : resampler_(sample_rate), pool_(std::move(pool)), threads_(threads), runner_(pool_->Take(threads)) {}

Session::Progress Session::Snapshot() const {
  return {resampler_.input_samples(), frame_count_, PatchCount(frame_count_), peak_};
}

Session::Progress Session::Push(const float* pcm, size_t n) {
  if (finished_) throw std::logic_error("Session::Push() after Finish()");
  float peak = peak_;
  for (size_t i = 0; i < n; i++) {
    float a = std::fabs(pcm[i]);
    if (a > peak) peak = a;
  }
  peak_ = peak;
  pcm16_.clear();
  resampler_.Push(pcm, n, &pcm16_);
  FeedResampled();
  return Snapshot();
}

void Session::FeedResampled() {
  frames_.clear();
  size_t count = cutter_.Push(pcm16_.data(), pcm16_.size(), &frames_);
  if (count == 0) return;
  bands_.resize(count * kMelBands);
  mel_.Compute(frames_.data(), count, bands_.data());
  runner_->PushFrames(bands_.data(), count);
  frame_count_ += count;
}

Session::Result Session::Finish() {
  if (finished_) throw std::logic_error("Session::Finish() called twice");
  finished_ = true;
  pcm16_.clear();
  resampler_.End(&pcm16_);
  FeedResampled();
  frames_.clear();
  size_t count = cutter_.End(&frames_);
  if (count > 0) {
    bands_.resize(count * kMelBands);
    mel_.Compute(frames_.data(), count, bands_.data());
    runner_->PushFrames(bands_.data(), count);
    frame_count_ += count;
  }
  MusicnnRunner::Result r = runner_->Finish();
  Result out;
  out.means = std::move(r.means);
  out.patches = r.patches;
  out.finite = r.finite;
  out.frames = frame_count_;
  out.input_samples = resampler_.input_samples();
  out.output_samples = resampler_.output_samples();
  out.peak = peak_;
  pool_->Give(threads_, std::move(runner_));  // ready for a new stream
  std::vector<float>().swap(pcm16_);
  std::vector<float>().swap(frames_);
  std::vector<float>().swap(bands_);
  return out;
}

}  // namespace chaarfm
