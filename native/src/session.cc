// SPDX-License-Identifier: MIT
// See session.h.
#include "session.h"

#include <algorithm>
#include <cfloat>
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
    : resampler_(sample_rate, threads),
      pool_(std::move(pool)),
      runner_threads_(threads),
      overlap_(threads >= 2),
      runner_(pool_->Take(runner_threads_)) {
  worker_ = std::thread(&Session::InferenceLoop, this);
}

Session::~Session() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    worker_.join();
  }
}

Session::Progress Session::Snapshot() const {
  return {resampler_.input_samples(), frame_count_, PatchCount(frame_count_), peak_};
}

void Session::ThrowIfFailed() {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_) std::rethrow_exception(error_);
}

Session::Progress Session::Push(const float* pcm, size_t n) {
  if (finished_) throw std::logic_error("Session::Push() after Finish()");
  ThrowIfFailed();
  float peak = peak_;
  bool finite = true;
  for (size_t i = 0; i < n; i++) {
    float a = std::fabs(pcm[i]);
    finite &= a <= FLT_MAX;  // false for NaN and infinities
    if (a > peak) peak = a;
  }
  // same words as NON_FINITE_AUDIO in src/embed/embedder.ts; without this check the SIMD Relu
  // (max(x, 0) gives 0 for NaN) would turn such audio into a plausible-looking vector
  if (!finite) throw std::invalid_argument("the audio contains NaN or infinite samples");
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
  Deliver(count);
}

void Session::Deliver(size_t count) {
  for (size_t pos = 0; pos < count; pos += kMaxPieceFrames) {
    Enqueue(bands_.data() + pos * kMelBands, std::min(kMaxPieceFrames, count - pos));
  }
  if (!overlap_) {  // one thread at a time: wait until the engine has run what was handed over
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [&] { return error_ || queued_frames_ == 0; });
    if (error_) std::rethrow_exception(error_);
  }
  frame_count_ += count;
}

void Session::Enqueue(const float* bands, size_t count) {
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [&] { return error_ || queued_frames_ == 0 || queued_frames_ + count <= kMaxQueuedFrames; });
  if (error_) std::rethrow_exception(error_);
  std::vector<float> item;
  if (!spare_.empty()) {
    item = std::move(spare_.back());
    spare_.pop_back();
  }
  item.assign(bands, bands + count * kMelBands);
  queue_.push_back(std::move(item));
  queued_frames_ += count;
  lock.unlock();
  work_cv_.notify_one();
}

void Session::InferenceLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || input_done_ || !queue_.empty(); });
    if (stop_ || queue_.empty()) return;  // stopped, or the input ended and all of it ran
    std::vector<float> item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    size_t count = item.size() / kMelBands;
    try {
      runner_->PushFrames(item.data(), count);
    } catch (...) {
      lock.lock();
      error_ = std::current_exception();
      queue_.clear();
      queued_frames_ = 0;
      lock.unlock();
      space_cv_.notify_all();
      return;
    }
    lock.lock();
    queued_frames_ -= count;
    if (spare_.size() < 2) spare_.push_back(std::move(item));
    space_cv_.notify_all();
  }
}

Session::Result Session::Finish() {
  if (finished_) throw std::logic_error("Session::Finish() called twice");
  finished_ = true;
  pcm16_.clear();
  resampler_.End(&pcm16_);
  ThrowIfFailed();
  FeedResampled();
  frames_.clear();
  size_t count = cutter_.End(&frames_);
  if (count > 0) {
    bands_.resize(count * kMelBands);
    mel_.Compute(frames_.data(), count, bands_.data());
    Deliver(count);
  }
  {  // let the inference thread run what is queued, then end it
    {
      std::lock_guard<std::mutex> lock(mu_);
      input_done_ = true;
    }
    work_cv_.notify_all();
    worker_.join();
    if (error_) std::rethrow_exception(error_);
    std::vector<std::vector<float>>().swap(spare_);
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
  pool_->Give(runner_threads_, std::move(runner_));  // ready for a new stream
  std::vector<float>().swap(pcm16_);
  std::vector<float>().swap(frames_);
  std::vector<float>().swap(bands_);
  return out;
}

}  // namespace chaarfm
