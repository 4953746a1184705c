// SPDX-License-Identifier: MIT
// Timbral-branch detection and row evaluation (see timbral_stream.h).
#include "timbral_stream.h"

#include <map>

#include "../kernels/batchnorm_f32.h"
#include "../kernels/conv_f32.h"
#include "../kernels/elementwise_f32.h"
#include "../kernels/pool_f32.h"

namespace chaarfm {

namespace {

struct Index {
  const GraphSpec& spec;
  std::map<std::string, const NodeSpec*> by_name;
  std::map<std::string, std::vector<const NodeSpec*>> consumers;
  explicit Index(const GraphSpec& s) : spec(s) {
    for (auto& n : s.nodes) by_name[n.name] = &n;
    for (auto& n : s.nodes) for (auto& i : n.inputs) consumers[i].push_back(&n);
  }
  const NodeSpec* Get(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }
  // The Const value behind a chain of Identity nodes, or null.
  const TensorSpec* ConstOf(const std::string& name) const {
    const NodeSpec* n = Get(name);
    while (n && (n->op == "Identity" || n->op == "StopGradient") && n->inputs.size() == 1) n = Get(n->inputs[0]);
    if (!n || n->op != "Const") return nullptr;
    auto it = spec.consts.find(n->name);
    return it == spec.consts.end() ? nullptr : &it->second;
  }
  const NodeSpec* Input(const NodeSpec* n, size_t k, const char* op) const {
    if (!n || n->inputs.size() <= k) return nullptr;
    const NodeSpec* p = Get(n->inputs[k]);
    return p && p->op == op ? p : nullptr;
  }
};

std::vector<int64_t> Ints(const NodeSpec& n, const char* key) {
  auto it = n.attrs.find(key);
  return it == n.attrs.end() ? std::vector<int64_t>{} : it->second.ints;
}
std::string Str(const NodeSpec& n, const char* key, const char* dflt) {
  auto it = n.attrs.find(key);
  return it == n.attrs.end() ? dflt : it->second.s;
}
bool Training(const NodeSpec& n) {
  auto it = n.attrs.find("is_training");
  return it != n.attrs.end() && it->second.b;
}
float Eps(const NodeSpec& n) {
  auto it = n.attrs.find("epsilon");
  return it == n.attrs.end() ? 1e-4f : it->second.f;
}

bool BatchNormParams(const Index& ix, const NodeSpec* bn, size_t c, std::vector<float>* scale,
                     std::vector<float>* shift) {
  if (!bn || bn->inputs.size() != 5 || Training(*bn) || Str(*bn, "data_format", "NHWC") != "NHWC") return false;
  const TensorSpec* p[4];
  for (int k = 0; k < 4; ++k) {
    p[k] = ix.ConstOf(bn->inputs[k + 1]);
    if (!p[k] || !p[k]->is_float || p[k]->f32.size() != c) return false;
  }
  scale->resize(c);
  shift->resize(c);
  batchnorm_params_f32(p[0]->f32.data(), p[1]->f32.data(), p[2]->f32.data(), p[3]->f32.data(), Eps(*bn), c,
                       scale->data(), shift->data());
  return true;
}

// Matches Squeeze <- MaxPool <- FusedBatchNorm <- Relu <- BiasAdd <- Conv2D <- Pad; returns the Pad.
const NodeSpec* MatchBranch(const Index& ix, const NodeSpec* sq, size_t bands, TimbralBranch* b) {
  if (!sq || sq->op != "Squeeze" || Ints(*sq, "squeeze_dims") != std::vector<int64_t>{2}) return nullptr;
  const NodeSpec* pool = ix.Input(sq, 0, "MaxPool");
  const NodeSpec* bn = ix.Input(pool, 0, "FusedBatchNorm");
  const NodeSpec* relu = ix.Input(bn, 0, "Relu");
  const NodeSpec* bias = ix.Input(relu, 0, "BiasAdd");
  const NodeSpec* conv = ix.Input(bias, 0, "Conv2D");
  const NodeSpec* pad = ix.Input(conv, 0, "Pad");
  if (!pad) return nullptr;
  // every intermediate must have exactly one consumer (else the graph needs its values)
  for (const NodeSpec* n : {pool, bn, relu, bias, conv})
    if (ix.consumers.at(n->name).size() != 1) return nullptr;
  if (Str(*conv, "padding", "") != "VALID" || Str(*conv, "data_format", "NHWC") != "NHWC") return nullptr;
  for (auto s : Ints(*conv, "strides")) if (s != 1) return nullptr;
  for (auto d : Ints(*conv, "dilations")) if (d != 1) return nullptr;
  const TensorSpec* w = ix.ConstOf(conv->inputs[1]);
  if (!w || !w->is_float || w->shape.size() != 4 || w->shape[2] != 1 || w->shape[0] % 2 != 1) return nullptr;
  b->halo = static_cast<size_t>(w->shape[0] / 2);
  b->kw = static_cast<size_t>(w->shape[1]);
  b->co = static_cast<size_t>(w->shape[3]);
  if (b->kw > bands) return nullptr;
  b->kernel = w->f32;
  const TensorSpec* bv = ix.ConstOf(bias->inputs[1]);
  if (!bv || !bv->is_float || bv->f32.size() != b->co) return nullptr;
  b->bias = bv->f32;
  if (!BatchNormParams(ix, bn, b->co, &b->bn_scale, &b->bn_shift)) return nullptr;
  const auto k = Ints(*pool, "ksize"), st = Ints(*pool, "strides");
  const int64_t ow = static_cast<int64_t>(bands - b->kw + 1);
  if (Str(*pool, "padding", "") != "VALID" || k != std::vector<int64_t>{1, 1, ow, 1} || st.size() != 4 ||
      st[1] != 1)
    return nullptr;
  // Pad: only time, symmetric, equal to the halo
  const TensorSpec* pv = ix.ConstOf(pad->inputs[1]);
  const std::vector<int64_t> want = {0, 0, static_cast<int64_t>(b->halo), static_cast<int64_t>(b->halo), 0, 0, 0, 0};
  if (!pv || pv->is_float || pv->ints != want) return nullptr;
  b->squeeze = sq->name;
  return pad;
}

}  // namespace

bool FindTimbralBranches(const GraphSpec& spec, size_t bands, TimbralPlan* plan) {
  *plan = TimbralPlan{};
  Index ix(spec);
  std::map<std::string, std::vector<TimbralBranch>> by_pad;
  for (auto& n : spec.nodes) {
    TimbralBranch b;
    if (const NodeSpec* pad = MatchBranch(ix, &n, bands, &b)) by_pad[pad->name].push_back(std::move(b));
  }
  if (by_pad.size() != 1) return false;
  const NodeSpec* pad = ix.Get(by_pad.begin()->first);
  auto& branches = by_pad.begin()->second;
  // every consumer of the Pad must be a matched branch conv
  if (ix.consumers.at(pad->name).size() != branches.size()) return false;
  for (auto& b : branches) if (b.halo != branches[0].halo) return false;
  const NodeSpec* bn = ix.Input(pad, 0, "FusedBatchNorm");
  const NodeSpec* ed = ix.Input(bn, 0, "ExpandDims");
  const NodeSpec* ph = ix.Input(ed, 0, "Placeholder");
  if (!ph) return false;
  const TensorSpec* dim = ix.ConstOf(ed->inputs[1]);
  if (!dim || dim->is_float || dim->ints.size() != 1 || (dim->ints[0] != 3 && dim->ints[0] != -1)) return false;
  std::vector<float> s, h;
  if (!BatchNormParams(ix, bn, 1, &s, &h)) return false;
  plan->input = ph->name;
  plan->bands = bands;
  plan->in_scale = s[0];
  plan->in_shift = h[0];
  plan->branches = std::move(branches);
  return true;
}

void ComputeTimbralRows(const TimbralBranch& b, size_t bands, const float* rows_in, size_t out_rows,
                        float* out, ThreadPool* pool, bool fast, size_t images) {
  Conv2DShape s{};
  s.n = images; s.h = out_rows + 2 * b.halo; s.w = bands; s.c = 1;
  s.kh = 2 * b.halo + 1; s.kw = b.kw; s.co = b.co;
  s.oh = out_rows; s.ow = bands - b.kw + 1;
  // the same fused Conv2D -> BiasAdd -> Relu -> FusedBatchNorm -> MaxPool as the graph executor
  ConvEpilogue ep;
  ep.bias = b.bias.data();
  ep.relu = true;
  ep.bn_scale = b.bn_scale.data();
  ep.bn_shift = b.bn_shift.data();
  ep.pool_width = true;
  ep.dft = &b.dft;
  conv2d_f32(rows_in, b.kernel.data(), out, s, pool, fast, &ep);
}

}  // namespace chaarfm
