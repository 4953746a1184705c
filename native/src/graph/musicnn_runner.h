// SPDX-License-Identifier: MIT
// MusicnnRunner: runs a MusiCNN GraphSpec from log-mel frames to the output rows.
// PushFrames takes frames [n][96] in order, any chunking; patches of 187 frames every 93 are
// cut and run in batches; Finish() flushes, drops the last incomplete patch, and returns the
// mean row per output (float32 sums of rows in patch order, then one float32 division), the
// patch count and whether every value was finite; the runner is then ready for a new stream.
// With overlap reuse (when the graph has the timbral pattern, see timbral_stream.h) each
// frame's timbral rows are computed once from the stream and only the halo rows at each patch
// edge are recomputed; the result is bit-identical to running each patch alone.
// RunPatches runs explicit patches [n][187][96] with the plain per-patch executor.
// With threads >= 2 the patches of a batch run in parallel (patch lanes, see RunLanes) and the
// streamed timbral rows are split by rows; results do not depend on the thread count.
// Not thread-safe: one call at a time per instance (instances are independent).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "graph_spec.h"

namespace chaarfm {

class GraphExecutor;
class ThreadPool;
struct Tensor;
struct TimbralPlan;

class MusicnnRunner {
 public:
  struct Options {
    bool overlap_reuse = true;  // use the timbral stream when the graph allows it
    bool fast_kernels = true;   // selected kernel backend; false = generic reference kernels
    size_t batch = 4;           // patches per executor run
  };
  static constexpr size_t kFrames = 187, kHop = 93, kBands = 96;

  MusicnnRunner(const GraphSpec& spec, int threads);  // throws std::runtime_error naming the problem
  MusicnnRunner(const GraphSpec& spec, int threads, const Options& options);
  ~MusicnnRunner();

  void PushFrames(const float* frames, size_t n);
  struct Result {
    std::vector<std::vector<float>> means;
    size_t patches;
    bool finite;
  };
  Result Finish();
  std::vector<std::vector<float>> RunPatches(const float* patches, size_t n);
  size_t output_width(size_t i) const { return widths_.at(i); }
  size_t outputs() const { return widths_.size(); }
  bool overlap_reuse() const { return reuse_ != nullptr; }

 private:
  void QueuePatch();                  // the next patch is complete in frames_
  void RunBatch();                    // run the queued patches and add their rows to the sums
  void AddRows(const std::vector<std::vector<float>>& rows, size_t n);
  // exec on the n patches of feeds (first dimension = patch); with more than one thread, as
  // patch lanes: contiguous groups of patches, one group per thread at once, each group's
  // kernels on its own thread. A patch's rows never depend on its batch, so the rows (per
  // output, n x width, in patch order) are the same bits for every thread count.
  std::vector<std::vector<float>> RunLanes(const GraphExecutor& exec, const std::vector<std::shared_ptr<Tensor>>& feeds,
                                           size_t n);
  void Reset();

  Options opt_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<GraphExecutor> full_, reuse_;
  std::unique_ptr<TimbralPlan> plan_;
  std::vector<size_t> widths_;

  // stream state
  std::vector<float> frames_;        // raw frames from frame index frames_base_
  size_t frames_base_ = 0, frames_total_ = 0, next_patch_ = 0;
  std::vector<std::vector<float>> stream_rows_;  // per branch, rows from rows_base_ to rows_end_
  size_t rows_base_ = 0, rows_end_ = 0;
  std::vector<float> batch_in_;                    // queued patches, raw
  std::vector<std::vector<float>> batch_timbral_;  // per branch, [queued][187][co]
  std::vector<float> edges_;                       // [2 * queued][3h][96]: each patch's edge blocks
  size_t queued_ = 0, patches_ = 0;
  std::vector<std::vector<float>> sums_;
  bool finite_ = true;
};

}  // namespace chaarfm
