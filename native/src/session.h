// SPDX-License-Identifier: MIT
// One embedding: mono PCM chunks at the source rate -> Resampler (16 kHz) -> FrameCutter ->
// MelFrontend -> MusicnnRunner::PushFrames; Finish() -> the mean of each output over the
// patches, the patch count, the frame count. Memory stays bounded: samples and frames are
// handed on as soon as they are complete (the runner keeps what its patches need).
// The addon runs Push/Finish on a worker thread, one call at a time.
//
// The engine always runs on one inference thread owned by the session: Push resamples (the
// resampler's dot products split over `threads` threads, the calling one and threads - 1 of its
// own, with the same samples for every count) and computes mel frames on the calling thread
// and hands them, in order, to that thread through a
// bounded queue (at most kMaxQueuedFrames frames waiting or being run; Push blocks while it is
// full). Why a thread of its own even for threads == 1: the BLAS library keeps a work buffer
// per calling thread, and the calling threads are libuv's pool (4 or more), so running the
// engine on them costs tens of MB of RSS for nothing (measured: 207 vs 147 MB peak on a
// 10-minute track).
// With threads == 1 Push waits until the engine has run what it handed over, so only one
// thread computes at a time. With threads >= 2 the front end and the engine overlap and the
// engine uses all `threads` (the inference thread and threads - 1 of the runner's pool: a
// batch's patches run in parallel lanes, the streamed timbral rows split by rows); the front
// end is ~1/5 of the work, so for that share threads + 1 threads are runnable. The runner sees the same frames in the same
// order (only the chunking of PushFrames differs, which does not change its results, nor does
// its thread count), so results are bit-identical for every thread count.
// Consequences: Progress counts frames computed by the front end; with threads >= 2 up to
// kMaxQueuedFrames of them may not have been run by the engine yet. An exception on the
// inference thread is rethrown by the next Push or Finish (and every call after it). Finish
// drains the queue and joins the thread; the destructor (close while busy, or after an error)
// stops it after the PushFrames call in progress (at most kMaxPieceFrames frames) and joins it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "audio/mel_frontend.h"
#include "audio/resample.h"
#include "graph/graph_spec.h"
#include "graph/musicnn_runner.h"

namespace chaarfm {

constexpr size_t kPatchFrames = 187;
constexpr size_t kPatchHop = 93;

inline size_t PatchCount(size_t frames) {
  return frames >= kPatchFrames ? (frames - kPatchFrames) / kPatchHop + 1 : 0;
}

// Engine instances of one model, kept for reuse: building a MusicnnRunner (weights repacked,
// threads started) costs tens of milliseconds, and a runner is ready for a new stream after
// Finish(). Thread-safe. At most kMaxIdle idle runners per thread count are kept.
class RunnerPool {
 public:
  explicit RunnerPool(std::shared_ptr<const GraphSpec> spec) : spec_(std::move(spec)) {}
  std::unique_ptr<MusicnnRunner> Take(int threads);                  // throws std::runtime_error
  void Give(int threads, std::unique_ptr<MusicnnRunner> runner);    // after a completed Finish()
  const GraphSpec& spec() const { return *spec_; }

 private:
  static constexpr size_t kMaxIdle = 2;
  std::shared_ptr<const GraphSpec> spec_;
  std::mutex mu_;
  std::map<int, std::vector<std::unique_ptr<MusicnnRunner>>> idle_;
};

class Session {
 public:
  // throws std::invalid_argument for a bad rate, std::runtime_error from the engine
  Session(std::shared_ptr<RunnerPool> pool, double sample_rate, int threads);
  ~Session();  // stops and joins the inference thread, if any
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  static constexpr size_t kMaxPieceFrames = 2 * kPatchHop;   // frames per queued item, at most
  static constexpr size_t kMaxQueuedFrames = 8 * kPatchHop;  // queued + in the engine, at most

  struct Progress {
    size_t input_samples;  // at the source rate
    size_t frames;         // mel frames computed
    size_t patches;        // complete patches among them
    float peak;            // largest |sample| so far
  };
  Progress Push(const float* pcm, size_t n);  // throws std::invalid_argument on a NaN/Inf sample

  struct Result {
    std::vector<std::vector<float>> means;  // one per output of the spec, in order
    size_t patches = 0;
    size_t frames = 0;
    size_t input_samples = 0;
    size_t output_samples = 0;  // at 16 kHz
    float peak = 0.f;
    bool finite = true;
  };
  Result Finish();  // once; throws std::logic_error after that

 private:
  void FeedResampled();
  void Deliver(size_t count);   // bands_[0, count) to the runner, or to the queue
  void Enqueue(const float* bands, size_t count);
  void InferenceLoop();         // the inference thread
  void ThrowIfFailed();         // rethrows the inference thread's exception, if any
  Progress Snapshot() const;

  Resampler resampler_;
  FrameCutter cutter_;
  MelFrontend mel_;
  std::shared_ptr<RunnerPool> pool_;
  int runner_threads_;  // threads for the engine: all of them
  bool overlap_;        // threads >= 2: Push does not wait for the engine
  std::unique_ptr<MusicnnRunner> runner_;  // back to the pool after Finish(); dropped otherwise
  std::vector<float> pcm16_, frames_, bands_;
  size_t frame_count_ = 0;
  float peak_ = 0.f;
  bool finished_ = false;

  // the queue to the inference thread, guarded by mu_
  std::mutex mu_;
  std::condition_variable work_cv_;   // to the inference thread: an item, the end, or stop
  std::condition_variable space_cv_;  // to Push/Finish: room in the queue, or an error
  std::deque<std::vector<float>> queue_;
  std::vector<std::vector<float>> spare_;  // recycled item buffers
  size_t queued_frames_ = 0;               // in queue_ plus the item being run
  bool input_done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;  // last: started once everything above exists
};

}  // namespace chaarfm
