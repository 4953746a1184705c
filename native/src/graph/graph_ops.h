// SPDX-License-Identifier: MIT
// Evaluation of one GraphDef node of the MusiCNN op set on concrete tensors (NHWC).
// EvalNode may overwrite in[0] in place when in[0] is uniquely owned (use_count == 1).
// Throws std::runtime_error naming the node for a bad shape or attribute.
// Thread-safe for distinct inputs; the pool is used by one caller at a time.
#pragma once

#include <vector>

#include "graph_spec.h"
#include "tensor.h"

namespace chaarfm {

class ThreadPool;
struct ConvEpilogue;

bool IsSupportedOp(const std::string& op);
// Conv2D with BiasAdd/Relu/batchnorm fused into its output chunks (ep may be null), and, when
// pool_w > 0, the following MaxPool (window == stride == [1, pool_w], VALID).
TensorPtr EvalConv2D(const NodeSpec& node, std::vector<TensorPtr>& in, ThreadPool* pool, bool fast,
                     const ConvEpilogue* ep, size_t pool_w);
TensorPtr EvalNode(const NodeSpec& node, std::vector<TensorPtr>& in, ThreadPool* pool, bool fast);

}  // namespace chaarfm
