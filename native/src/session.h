// SPDX-License-Identifier: MIT
// One embedding: mono PCM chunks at the source rate -> Resampler (16 kHz) -> FrameCutter ->
// MelFrontend -> MusicnnRunner::PushFrames; Finish() -> the mean of each output over the
// patches, the patch count, the frame count. Memory stays bounded: samples and frames are
// handed on as soon as they are complete (the runner keeps what its patches need).
// Plain synchronous C++: the addon runs Push/Finish on a worker thread, one call at a time.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
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

  struct Progress {
    size_t input_samples;  // at the source rate
    size_t frames;         // mel frames computed
    size_t patches;        // complete patches among them
    float peak;            // largest |sample| so far
  };
  Progress Push(const float* pcm, size_t n);

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
  Progress Snapshot() const;

  Resampler resampler_;
  FrameCutter cutter_;
  MelFrontend mel_;
  std::shared_ptr<RunnerPool> pool_;
  int threads_;
  std::unique_ptr<MusicnnRunner> runner_;  // back to the pool after Finish(); dropped otherwise
  std::vector<float> pcm16_, frames_, bands_;
  size_t frame_count_ = 0;
  float peak_ = 0.f;
  bool finished_ = false;
};

}  // namespace chaarfm
