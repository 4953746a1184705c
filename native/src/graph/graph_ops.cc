// SPDX-License-Identifier: MIT
// Node evaluation for the MusiCNN op set (see graph_ops.h). Shapes are checked here and every
// error names the node. Thread-safe for distinct inputs.
#include "graph_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <stdexcept>

#include "../kernels/batchnorm_f32.h"
#include "../kernels/conv_f32.h"
#include "../kernels/elementwise_f32.h"
#include "../kernels/matmul_f32.h"
#include "../kernels/pool_f32.h"

namespace chaarfm {

namespace {

[[noreturn]] void Fail(const NodeSpec& n, const std::string& why) {
  throw std::runtime_error(n.op + " node '" + n.name + "': " + why);
}

const AttrValue* FindAttr(const NodeSpec& n, const char* key) {
  auto it = n.attrs.find(key);
  return it == n.attrs.end() ? nullptr : &it->second;
}
std::string AttrStr(const NodeSpec& n, const char* key, const std::string& dflt) {
  const AttrValue* a = FindAttr(n, key);
  return a ? a->s : dflt;
}
int64_t AttrInt(const NodeSpec& n, const char* key, int64_t dflt) {
  const AttrValue* a = FindAttr(n, key);
  return a ? a->i : dflt;
}
bool AttrBool(const NodeSpec& n, const char* key, bool dflt) {
  const AttrValue* a = FindAttr(n, key);
  return a ? a->b : dflt;
}
std::vector<int64_t> AttrInts(const NodeSpec& n, const char* key) {
  const AttrValue* a = FindAttr(n, key);
  return a ? a->ints : std::vector<int64_t>{};
}

TensorPtr NewFloat(std::vector<int64_t> shape) {
  auto t = std::make_shared<Tensor>();
  t->shape = std::move(shape);
  t->f.resize(t->numel());
  return t;
}

// Output tensor for a unary element-wise op: in[0] itself when uniquely owned.
TensorPtr UnaryOut(std::vector<TensorPtr>& in) {
  if (in[0].use_count() == 1) return in[0];
  return NewFloat(in[0]->shape);
}

void NeedInputs(const NodeSpec& n, const std::vector<TensorPtr>& in, size_t k) {
  if (in.size() != k) Fail(n, "expected " + std::to_string(k) + " inputs, got " + std::to_string(in.size()));
}
const Tensor& FloatIn(const NodeSpec& n, const std::vector<TensorPtr>& in, size_t k) {
  if (!in[k]->is_float) Fail(n, "input " + std::to_string(k) + " must be float32");
  return *in[k];
}
std::vector<int64_t> IntsIn(const NodeSpec& n, const std::vector<TensorPtr>& in, size_t k) {
  if (in[k]->is_float) Fail(n, "input " + std::to_string(k) + " must be an integer tensor");
  return in[k]->i;
}
int64_t Axis(const NodeSpec& n, int64_t a, size_t rank) {
  if (a < 0) a += static_cast<int64_t>(rank);
  if (a < 0 || a >= static_cast<int64_t>(rank)) Fail(n, "axis out of range");
  return a;
}

TensorPtr Reshaped(const std::vector<TensorPtr>& in, std::vector<int64_t> shape) {
  // Shares nothing: values are copied unless uniquely owned (then moved).
  auto t = std::make_shared<Tensor>();
  if (in[0].use_count() == 1) *t = std::move(*in[0]);
  else *t = *in[0];
  t->shape = std::move(shape);
  return t;
}

TensorPtr Conv2D(const NodeSpec& n, std::vector<TensorPtr>& in, ThreadPool* pool, bool fast,
                 const ConvEpilogue* ep, size_t pool_w) {
  NeedInputs(n, in, 2);
  const Tensor& x = FloatIn(n, in, 0);
  const Tensor& w = FloatIn(n, in, 1);
  if (x.shape.size() != 4 || w.shape.size() != 4) Fail(n, "needs a 4-D input and a 4-D kernel");
  if (AttrStr(n, "data_format", "NHWC") != "NHWC") Fail(n, "only NHWC is supported");
  for (auto s : AttrInts(n, "strides")) if (s != 1) Fail(n, "only stride 1 is supported");
  for (auto d : AttrInts(n, "dilations")) if (d != 1) Fail(n, "only dilation 1 is supported");
  Conv2DShape s{};
  s.n = x.shape[0]; s.h = x.shape[1]; s.w = x.shape[2]; s.c = x.shape[3];
  s.kh = w.shape[0]; s.kw = w.shape[1]; s.co = w.shape[3];
  if (static_cast<size_t>(w.shape[2]) != s.c)
    Fail(n, "kernel " + ShapeString(w.shape) + " does not match input " + ShapeString(x.shape));
  const std::string padding = AttrStr(n, "padding", "");
  if (padding == "VALID") {
    if (s.h < s.kh || s.w < s.kw) Fail(n, "input " + ShapeString(x.shape) + " smaller than kernel");
    s.oh = s.h - s.kh + 1; s.ow = s.w - s.kw + 1; s.pad_top = 0; s.pad_left = 0;
  } else if (padding == "SAME") {
    s.oh = s.h; s.ow = s.w;
    s.pad_top = (s.kh - 1) / 2; s.pad_left = (s.kw - 1) / 2;
  } else {
    Fail(n, "unsupported padding '" + padding + "'");
  }
  const int64_t n4 = static_cast<int64_t>(s.n), oh = static_cast<int64_t>(s.oh), ow = static_cast<int64_t>(s.ow),
                co = static_cast<int64_t>(s.co);
  if (ep && pool_w > 0) {
    if (pool_w == s.ow) {  // the fused MaxPool spans the width: pool inside the convolution
      ConvEpilogue e = *ep;
      e.pool_width = true;
      auto y = NewFloat({n4, oh, 1, co});
      conv2d_f32(x.f.data(), w.f.data(), y->f.data(), s, pool, fast, &e);
      return y;
    }
    if (pool_w > s.ow) Fail(n, "fused MaxPool window larger than the width " + std::to_string(s.ow));
    auto full = NewFloat({n4, oh, ow, co});
    conv2d_f32(x.f.data(), w.f.data(), full->f.data(), s, pool, fast, ep);
    const int64_t pw = (ow - static_cast<int64_t>(pool_w)) / static_cast<int64_t>(pool_w) + 1;
    auto y = NewFloat({n4, oh, pw, co});
    maxpool_f32(full->f.data(), y->f.data(), s.n, s.oh, s.ow, s.co, 1, pool_w, 1, pool_w, s.oh, pw);
    return y;
  }
  auto y = NewFloat({n4, oh, ow, co});
  conv2d_f32(x.f.data(), w.f.data(), y->f.data(), s, pool, fast, ep);
  return y;
}

TensorPtr FusedBatchNorm(const NodeSpec& n, std::vector<TensorPtr>& in) {
  NeedInputs(n, in, 5);
  if (AttrBool(n, "is_training", false)) Fail(n, "is_training=true is not supported (inference only)");
  if (AttrStr(n, "data_format", "NHWC") != "NHWC") Fail(n, "only NHWC is supported");
  const Tensor& x = FloatIn(n, in, 0);
  const size_t c = x.shape.empty() ? 1 : static_cast<size_t>(x.shape.back());
  for (size_t k = 1; k < 5; ++k)
    if (FloatIn(n, in, k).numel() != c) Fail(n, "parameter " + std::to_string(k) + " is not [" + std::to_string(c) + "]");
  const AttrValue* eps = FindAttr(n, "epsilon");
  std::vector<float> scale(c), shift(c);
  batchnorm_params_f32(in[1]->f.data(), in[2]->f.data(), in[3]->f.data(), in[4]->f.data(),
                       eps ? eps->f : 1e-4f, c, scale.data(), shift.data());
  auto y = UnaryOut(in);
  batchnorm_f32(x.f.data(), y->f.data(), x.numel() / c, c, scale.data(), shift.data());
  return y;
}

TensorPtr MaxPool(const NodeSpec& n, std::vector<TensorPtr>& in) {
  NeedInputs(n, in, 1);
  const Tensor& x = FloatIn(n, in, 0);
  if (x.shape.size() != 4) Fail(n, "needs a 4-D input");
  if (AttrStr(n, "data_format", "NHWC") != "NHWC") Fail(n, "only NHWC is supported");
  if (AttrStr(n, "padding", "") != "VALID") Fail(n, "only VALID padding is supported");
  auto k = AttrInts(n, "ksize"), st = AttrInts(n, "strides");
  if (k.size() != 4 || st.size() != 4 || k[0] != 1 || k[3] != 1 || st[0] != 1 || st[3] != 1)
    Fail(n, "ksize/strides must be [1,kh,kw,1]");
  if (x.shape[1] < k[1] || x.shape[2] < k[2]) Fail(n, "window larger than input " + ShapeString(x.shape));
  const int64_t oh = (x.shape[1] - k[1]) / st[1] + 1, ow = (x.shape[2] - k[2]) / st[2] + 1;
  auto y = NewFloat({x.shape[0], oh, ow, x.shape[3]});
  maxpool_f32(x.f.data(), y->f.data(), x.shape[0], x.shape[1], x.shape[2], x.shape[3], k[1], k[2], st[1],
              st[2], oh, ow);
  return y;
}

TensorPtr Binary(const NodeSpec& n, std::vector<TensorPtr>& in, BinaryOp op) {
  NeedInputs(n, in, 2);
  const Tensor& a = FloatIn(n, in, 0);
  const Tensor& b = FloatIn(n, in, 1);
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  std::vector<int64_t> as(rank, 1), bs(rank, 1), os(rank);
  std::copy(a.shape.begin(), a.shape.end(), as.begin() + (rank - a.shape.size()));
  std::copy(b.shape.begin(), b.shape.end(), bs.begin() + (rank - b.shape.size()));
  for (size_t d = 0; d < rank; ++d) {
    if (as[d] != bs[d] && as[d] != 1 && bs[d] != 1)
      Fail(n, "cannot broadcast " + ShapeString(a.shape) + " with " + ShapeString(b.shape));
    os[d] = as[d] == 1 ? bs[d] : as[d];
  }
  TensorPtr y = (as == os && in[0].use_count() == 1) ? in[0] : NewFloat(os);
  y->shape = os;
  broadcast_f32(op, a.f.data(), as, b.f.data(), bs, y->f.data(), os);
  return y;
}

TensorPtr Reduce(const NodeSpec& n, std::vector<TensorPtr>& in, bool is_max) {
  NeedInputs(n, in, 2);
  const Tensor& x = FloatIn(n, in, 0);
  std::vector<int64_t> axes = IntsIn(n, in, 1);
  const size_t rank = x.shape.size();
  std::set<int64_t> ax;
  for (auto a : axes) ax.insert(Axis(n, a, rank));
  if (ax.empty()) return in[0];
  if (*ax.rbegin() - *ax.begin() + 1 != static_cast<int64_t>(ax.size())) Fail(n, "reduction axes must be contiguous");
  size_t outer = 1, red = 1, inner = 1;
  std::vector<int64_t> keep, drop;
  for (size_t d = 0; d < rank; ++d) {
    const bool r = ax.count(static_cast<int64_t>(d)) > 0;
    if (static_cast<int64_t>(d) < *ax.begin()) outer *= x.shape[d];
    else if (r) red *= x.shape[d];
    else inner *= x.shape[d];
    keep.push_back(r ? 1 : x.shape[d]);
    if (!r) drop.push_back(x.shape[d]);
  }
  if (red == 0) Fail(n, "empty reduction");
  auto y = NewFloat(AttrBool(n, "keep_dims", false) ? keep : drop);
  if (is_max) reduce_max_f32(x.f.data(), y->f.data(), outer, red, inner);
  else reduce_mean_f32(x.f.data(), y->f.data(), outer, red, inner);
  return y;
}

TensorPtr Concat(const NodeSpec& n, std::vector<TensorPtr>& in) {
  if (in.size() < 2) Fail(n, "needs at least one value and an axis");
  const size_t k = in.size() - 1;
  const auto ax_v = IntsIn(n, in, k);
  if (ax_v.size() != 1) Fail(n, "axis must be a scalar");
  const Tensor& first = *in[0];
  const size_t rank = first.shape.size();
  const int64_t axis = Axis(n, ax_v[0], rank);
  std::vector<int64_t> os = first.shape;
  os[axis] = 0;
  for (size_t t = 0; t < k; ++t) {
    const Tensor& v = *in[t];
    if (v.is_float != first.is_float || v.shape.size() != rank) Fail(n, "inputs differ in type or rank");
    for (size_t d = 0; d < rank; ++d)
      if (static_cast<int64_t>(d) != axis && v.shape[d] != first.shape[d])
        Fail(n, "input " + ShapeString(v.shape) + " does not match " + ShapeString(first.shape));
    os[axis] += v.shape[axis];
  }
  size_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= os[d];
  for (size_t d = axis + 1; d < rank; ++d) inner *= os[d];
  auto y = std::make_shared<Tensor>();
  y->shape = os;
  y->is_float = first.is_float;
  if (first.is_float) y->f.resize(y->numel()); else y->i.resize(y->numel());
  size_t off = 0;
  const size_t row = static_cast<size_t>(os[axis]) * inner;
  for (size_t t = 0; t < k; ++t) {
    const Tensor& v = *in[t];
    const size_t len = static_cast<size_t>(v.shape[axis]) * inner;
    for (size_t o = 0; o < outer; ++o) {
      if (first.is_float) std::memcpy(&y->f[o * row + off], &v.f[o * len], len * sizeof(float));
      else std::memcpy(&y->i[o * row + off], &v.i[o * len], len * sizeof(int64_t));
    }
    off += len;
  }
  return y;
}

TensorPtr Transpose(const NodeSpec& n, std::vector<TensorPtr>& in) {
  NeedInputs(n, in, 2);
  const Tensor& x = FloatIn(n, in, 0);
  const auto perm = IntsIn(n, in, 1);
  const size_t rank = x.shape.size();
  if (perm.size() != rank) Fail(n, "perm size does not match rank");
  std::vector<int64_t> os(rank);
  std::vector<size_t> in_stride(rank), st(rank);
  size_t m = 1;
  for (size_t d = rank; d-- > 0;) { in_stride[d] = m; m *= x.shape[d]; }
  for (size_t d = 0; d < rank; ++d) { os[d] = x.shape[Axis(n, perm[d], rank)]; st[d] = in_stride[perm[d]]; }
  auto y = NewFloat(os);
  std::vector<size_t> idx(rank, 0);
  const size_t total = y->numel();
  for (size_t i = 0; i < total; ++i) {
    size_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += idx[d] * st[d];
    y->f[i] = x.f[src];
    for (size_t d = rank; d-- > 0;) { if (++idx[d] < static_cast<size_t>(os[d])) break; idx[d] = 0; }
  }
  return y;
}

TensorPtr Pad(const NodeSpec& n, std::vector<TensorPtr>& in) {
  NeedInputs(n, in, 2);
  const Tensor& x = FloatIn(n, in, 0);
  const auto p = IntsIn(n, in, 1);
  const size_t rank = x.shape.size();
  if (p.size() != 2 * rank) Fail(n, "paddings must be [rank, 2]");
  std::vector<int64_t> os(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (p[2 * d] < 0 || p[2 * d + 1] < 0) Fail(n, "negative padding");
    os[d] = x.shape[d] + p[2 * d] + p[2 * d + 1];
  }
  auto y = NewFloat(os);  // zero-filled
  if (x.numel() == 0) return y;
  // view as [dims up to the last padded one..., inner] so each copy is one contiguous run
  size_t last = 0;
  bool any = false;
  for (size_t d = 0; d < rank; ++d) if (p[2 * d] || p[2 * d + 1]) { last = d; any = true; }
  if (!any) { y->f = x.f; return y; }
  std::vector<int64_t> xs(x.shape.begin(), x.shape.begin() + last + 1), ys(os.begin(), os.begin() + last + 1);
  size_t inner = 1;
  for (size_t d = last + 1; d < rank; ++d) inner *= static_cast<size_t>(x.shape[d]);
  xs.push_back(static_cast<int64_t>(inner));
  ys.push_back(static_cast<int64_t>(inner));
  const size_t r2 = xs.size();
  std::vector<size_t> ostride(r2);
  size_t m = 1;
  for (size_t d = r2; d-- > 0;) { ostride[d] = m; m *= static_cast<size_t>(ys[d]); }
  const size_t rows = x.numel() / inner;
  std::vector<size_t> idx(r2, 0);
  for (size_t r = 0; r < rows; ++r) {
    size_t dst = 0;
    for (size_t d = 0; d + 1 < r2; ++d) dst += (idx[d] + static_cast<size_t>(p[2 * d])) * ostride[d];
    std::memcpy(&y->f[dst], &x.f[r * inner], inner * sizeof(float));
    for (size_t d = r2 - 1; d-- > 0;) { if (++idx[d] < static_cast<size_t>(xs[d])) break; idx[d] = 0; }
  }
  return y;
}

TensorPtr StridedSlice(const NodeSpec& n, std::vector<TensorPtr>& in) {
  NeedInputs(n, in, 4);
  if (in[0]->shape.size() != 1) Fail(n, "only 1-D inputs are supported");
  if (AttrInt(n, "ellipsis_mask", 0) || AttrInt(n, "new_axis_mask", 0)) Fail(n, "ellipsis/new_axis masks are not supported");
  const auto b = IntsIn(n, in, 1), e = IntsIn(n, in, 2), s = IntsIn(n, in, 3);
  if (b.size() != 1 || e.size() != 1 || s.size() != 1 || s[0] == 0) Fail(n, "begin/end/strides must be [1] with stride != 0");
  const int64_t len = in[0]->shape[0];
  auto clampi = [&](int64_t v, int64_t lo, int64_t hi) { if (v < 0) v += len; return std::min(std::max(v, lo), hi); };
  const bool fwd = s[0] > 0;
  int64_t begin = (AttrInt(n, "begin_mask", 0) & 1) ? (fwd ? 0 : len - 1) : clampi(b[0], fwd ? 0 : -1, fwd ? len : len - 1);
  int64_t end = (AttrInt(n, "end_mask", 0) & 1) ? (fwd ? len : -1) : clampi(e[0], fwd ? 0 : -1, fwd ? len : len - 1);
  const bool shrink = AttrInt(n, "shrink_axis_mask", 0) & 1;
  if (shrink) { begin = b[0] < 0 ? b[0] + len : b[0]; end = begin + 1; if (begin < 0 || begin >= len) Fail(n, "index out of range"); }
  auto y = std::make_shared<Tensor>();
  y->is_float = in[0]->is_float;
  for (int64_t k = begin; fwd ? k < end : k > end; k += s[0]) {
    if (y->is_float) y->f.push_back(in[0]->f[k]); else y->i.push_back(in[0]->i[k]);
  }
  y->shape = shrink ? std::vector<int64_t>{} : std::vector<int64_t>{static_cast<int64_t>(y->is_float ? y->f.size() : y->i.size())};
  return y;
}

TensorPtr Pack(const NodeSpec& n, std::vector<TensorPtr>& in) {
  if (in.empty()) Fail(n, "needs inputs");
  if (AttrInt(n, "axis", 0) != 0) Fail(n, "only axis 0 is supported");
  auto y = std::make_shared<Tensor>();
  y->is_float = in[0]->is_float;
  y->shape = in[0]->shape;
  for (auto& t : in) {
    if (t->shape != in[0]->shape || t->is_float != y->is_float) Fail(n, "inputs differ in shape or type");
    if (y->is_float) y->f.insert(y->f.end(), t->f.begin(), t->f.end());
    else y->i.insert(y->i.end(), t->i.begin(), t->i.end());
  }
  y->shape.insert(y->shape.begin(), static_cast<int64_t>(in.size()));
  return y;
}

TensorPtr Reshape(const NodeSpec& n, std::vector<TensorPtr>& in) {
  NeedInputs(n, in, 2);
  auto s = IntsIn(n, in, 1);
  const size_t total = in[0]->numel();
  int64_t known = 1, unknown = -1;
  for (size_t d = 0; d < s.size(); ++d) {
    if (s[d] == -1) { if (unknown >= 0) Fail(n, "two -1 dimensions"); unknown = static_cast<int64_t>(d); }
    else known *= s[d];
  }
  if (unknown >= 0) { if (known == 0 || total % known) Fail(n, "cannot infer -1"); s[unknown] = static_cast<int64_t>(total) / known; }
  else if (static_cast<size_t>(known) != total) Fail(n, "cannot reshape " + ShapeString(in[0]->shape) + " to " + ShapeString(s));
  return Reshaped(in, s);
}

TensorPtr MatMul(const NodeSpec& n, std::vector<TensorPtr>& in, bool fast) {
  NeedInputs(n, in, 2);
  const Tensor& a = FloatIn(n, in, 0);
  const Tensor& b = FloatIn(n, in, 1);
  if (a.shape.size() != 2 || b.shape.size() != 2) Fail(n, "needs 2-D operands");
  const bool ta = AttrBool(n, "transpose_a", false), tb = AttrBool(n, "transpose_b", false);
  const size_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  const size_t Kb = tb ? b.shape[1] : b.shape[0], N = tb ? b.shape[0] : b.shape[1];
  if (K != Kb) Fail(n, "inner dimensions differ: " + ShapeString(a.shape) + " x " + ShapeString(b.shape));
  std::vector<float> at, bt;
  const float* ap = a.f.data();
  const float* bp = b.f.data();
  if (ta) { at.resize(M * K); for (size_t i = 0; i < M; ++i) for (size_t k = 0; k < K; ++k) at[i * K + k] = a.f[k * M + i]; ap = at.data(); }
  if (tb) { bt.resize(K * N); for (size_t k = 0; k < K; ++k) for (size_t j = 0; j < N; ++j) bt[k * N + j] = b.f[j * K + k]; bp = bt.data(); }
  auto y = NewFloat({static_cast<int64_t>(M), static_cast<int64_t>(N)});
  // All rows in one call: every GEMM variant computes a row the same way whatever M is
  // (matmul_f32.h), so a row's result does not depend on how many patches share the batch.
  gemm_rows_f32(ap, K, bp, N, y->f.data(), N, M, N, K, fast);
  return y;
}

}  // namespace

TensorPtr EvalConv2D(const NodeSpec& node, std::vector<TensorPtr>& in, ThreadPool* pool, bool fast,
                     const ConvEpilogue* ep, size_t pool_w) {
  return Conv2D(node, in, pool, fast, ep, pool_w);
}

bool IsSupportedOp(const std::string& op) {
  static const std::set<std::string> ops = {
      "Placeholder", "Const", "Identity", "ExpandDims", "Pad", "Conv2D", "BiasAdd", "Relu",
      "FusedBatchNorm", "MaxPool", "Squeeze", "ConcatV2", "Transpose", "Add", "Sub", "Mul", "Rsqrt",
      "Max", "Mean", "SquaredDifference", "StopGradient", "Shape", "StridedSlice", "Pack", "Reshape",
      "MatMul", "Sigmoid"};
  return ops.count(op) > 0;
}

TensorPtr EvalNode(const NodeSpec& n, std::vector<TensorPtr>& in, ThreadPool* pool, bool fast) {
  const std::string& op = n.op;
  if (op == "Identity" || op == "StopGradient") { NeedInputs(n, in, 1); return in[0]; }
  if (op == "Conv2D") return Conv2D(n, in, pool, fast, nullptr, 0);
  if (op == "BiasAdd") {
    NeedInputs(n, in, 2);
    const Tensor& x = FloatIn(n, in, 0);
    const Tensor& b = FloatIn(n, in, 1);
    if (x.shape.empty() || b.shape.size() != 1 || b.shape[0] != x.shape.back())
      Fail(n, "bias " + ShapeString(b.shape) + " does not match " + ShapeString(x.shape));
    auto y = UnaryOut(in);
    bias_add_f32(x.f.data(), b.f.data(), y->f.data(), x.numel() / b.numel(), b.numel());
    return y;
  }
  if (op == "Relu" || op == "Sigmoid" || op == "Rsqrt") {
    NeedInputs(n, in, 1);
    const Tensor& x = FloatIn(n, in, 0);
    auto y = UnaryOut(in);
    if (op == "Relu") relu_f32(x.f.data(), y->f.data(), x.numel());
    else if (op == "Sigmoid") sigmoid_f32(x.f.data(), y->f.data(), x.numel());
    else rsqrt_f32(x.f.data(), y->f.data(), x.numel());
    return y;
  }
  if (op == "FusedBatchNorm") return FusedBatchNorm(n, in);
  if (op == "MaxPool") return MaxPool(n, in);
  if (op == "Add") return Binary(n, in, BinaryOp::kAdd);
  if (op == "Sub") return Binary(n, in, BinaryOp::kSub);
  if (op == "Mul") return Binary(n, in, BinaryOp::kMul);
  if (op == "SquaredDifference") return Binary(n, in, BinaryOp::kSquaredDifference);
  if (op == "Max") return Reduce(n, in, true);
  if (op == "Mean") return Reduce(n, in, false);
  if (op == "ConcatV2") return Concat(n, in);
  if (op == "Transpose") return Transpose(n, in);
  if (op == "Pad") return Pad(n, in);
  if (op == "StridedSlice") return StridedSlice(n, in);
  if (op == "Pack") return Pack(n, in);
  if (op == "Reshape") return Reshape(n, in);
  if (op == "MatMul") return MatMul(n, in, fast);
  if (op == "ExpandDims") {
    NeedInputs(n, in, 2);
    const auto d = IntsIn(n, in, 1);
    if (d.size() != 1) Fail(n, "dim must be a scalar");
    auto s = in[0]->shape;
    int64_t a = d[0] < 0 ? d[0] + static_cast<int64_t>(s.size()) + 1 : d[0];
    if (a < 0 || a > static_cast<int64_t>(s.size())) Fail(n, "dim out of range");
    s.insert(s.begin() + a, 1);
    return Reshaped(in, s);
  }
  if (op == "Squeeze") {
    NeedInputs(n, in, 1);
    const auto& s = in[0]->shape;
    std::set<int64_t> dims;
    for (auto d : AttrInts(n, "squeeze_dims")) dims.insert(Axis(n, d, s.size()));
    std::vector<int64_t> os;
    for (size_t d = 0; d < s.size(); ++d) {
      const bool sq = dims.empty() ? s[d] == 1 : dims.count(static_cast<int64_t>(d)) > 0;
      if (sq && s[d] != 1) Fail(n, "dimension " + std::to_string(d) + " of " + ShapeString(s) + " is not 1");
      if (!sq) os.push_back(s[d]);
    }
    return Reshaped(in, os);
  }
  if (op == "Shape") {
    NeedInputs(n, in, 1);
    auto y = std::make_shared<Tensor>();
    y->is_float = false;
    y->i = in[0]->shape;
    y->shape = {static_cast<int64_t>(y->i.size())};
    return y;
  }
  Fail(n, "unsupported op");
}

}  // namespace chaarfm
