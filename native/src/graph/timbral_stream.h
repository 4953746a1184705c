// SPDX-License-Identifier: MIT
// Overlap reuse for MusiCNN's timbral branches. A branch is the pattern
//   Placeholder -> ExpandDims(3) -> FusedBatchNorm -> Pad(time h,h only) -> Conv2D VALID
//   (kernel [2h+1, kw, 1, co]) -> BiasAdd -> Relu -> FusedBatchNorm -> MaxPool over the whole
//   frequency axis -> Squeeze
// whose output row t depends only on input frames t-h..t+h. FindTimbralBranches detects it
// from the graph (empty result: no reuse). ComputeRows evaluates a branch on a block of
// already-normalised, already-padded rows with the same kernels, in the same order, as the
// graph executor, so a row computed from the frame stream equals the row of a patch run alone.
// Thread-safe for distinct outputs (read-only after construction); pool: one caller at a time.
#pragma once

#include <string>
#include <vector>

#include "../kernels/conv_wide_dft.h"
#include "graph_spec.h"

namespace chaarfm {

class ThreadPool;

struct TimbralBranch {
  std::string squeeze;          // node the engine feeds with precomputed rows
  size_t halo = 0;              // h: frames each side (kernel height 2h+1)
  size_t kw = 0, co = 0;        // kernel width, filters
  std::vector<float> kernel;    // [2h+1][kw][1][co]
  std::vector<float> bias;      // [co]
  std::vector<float> bn_scale, bn_shift;  // after Relu, [co]
  WideDftPlan dft;              // the kernel's DFT form, made on first use
};

struct TimbralPlan {
  std::string input;            // the Placeholder
  size_t bands = 0;             // frequency bins (96)
  float in_scale = 1.f, in_shift = 0.f;   // the input batchnorm (one channel)
  std::vector<TimbralBranch> branches;
};

// Returns false (and leaves plan empty) when the graph does not have the pattern for every
// consumer of the input batchnorm's Pad.
bool FindTimbralBranches(const GraphSpec& spec, size_t bands, TimbralPlan* plan);

// rows_in: `images` blocks of (out_rows + 2h) normalised rows of `bands` values, zero rows
// where padded. out: [images][out_rows][co].
void ComputeTimbralRows(const TimbralBranch& b, size_t bands, const float* rows_in, size_t out_rows,
                        float* out, ThreadPool* pool, bool fast, size_t images = 1);

}  // namespace chaarfm
