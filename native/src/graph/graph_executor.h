// SPDX-License-Identifier: MIT
// Runs the part of a GraphSpec needed for chosen outputs given values for chosen feed nodes
// (normally the input Placeholder; the overlap-reuse path also feeds inner nodes).
// At construction: resolves names, orders the needed nodes topologically, rejects
// unsupported ops, and folds every node whose inputs are all constant (weight-only subgraphs
// such as batchnorm Rsqrt/Mul). Run() frees each value after its last use.
// Conv2D -> BiasAdd [-> Relu [-> FusedBatchNorm]] chains with constant parameters and no other
// consumers run as one convolution with the rest applied per output chunk (same arithmetic).
// Run() with the pool it was given: one at a time; Run(feeds, other pool or nullptr): concurrent calls are safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph_spec.h"
#include "tensor.h"

namespace chaarfm {

class ThreadPool;
struct FusedEpilogue;

class GraphExecutor {
 public:
  GraphExecutor(const GraphSpec& spec, const std::vector<std::string>& feeds,
                const std::vector<std::string>& outputs, ThreadPool* pool, bool fast);
  std::vector<TensorPtr> Run(const std::vector<TensorPtr>& feed_values) const { return Run(feed_values, pool_); }
  // The same on another pool (nullptr: every task on the calling thread, in order). Run only
  // reads the executor, so distinct calls may run at once on distinct threads (the patch lanes
  // of MusicnnRunner), each with its own pool or none.
  std::vector<TensorPtr> Run(const std::vector<TensorPtr>& feed_values, ThreadPool* pool) const;
  size_t steps() const { return steps_.size(); }

 private:
  struct Step {
    const NodeSpec* node;
    std::vector<int> inputs;  // value slots
    int output;               // value slot
    std::shared_ptr<FusedEpilogue> epilogue;  // Conv2D only: fused following nodes
  };
  void FuseConvEpilogues();
  std::vector<Step> steps_;
  std::vector<TensorPtr> consts_;   // per slot: the folded constant or null
  std::vector<int> feed_slots_, output_slots_;
  std::vector<int> uses_;           // per slot: how many step inputs read it (+1 if an output)
  ThreadPool* pool_;
  bool fast_;
};

}  // namespace chaarfm
