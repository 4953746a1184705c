// SPDX-License-Identifier: MIT
// GraphExecutor (see graph_executor.h). Not thread-safe per instance.
#include "graph_executor.h"

#include <chrono>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>

#include "../kernels/batchnorm_f32.h"
#include "../kernels/conv_f32.h"
#include "../kernels/conv_tall_dft.h"
#include "../kernels/conv_wide_dft.h"
#include "graph_ops.h"

namespace chaarfm {

struct FusedEpilogue {
  std::vector<float> bias, scale, shift;
  ConvEpilogue ep;
  size_t pool_w = 0;
  WideDftPlan dft;  // the DFT form of a wide kernel's weights, made on first use (conv_wide_dft.h)
  TallDftPlan tall_dft;  // the FFT form of a tall kernel's (conv_tall_dft.h)
};

namespace {
TensorPtr ConstTensor(const GraphSpec& spec, const NodeSpec& n) {
  auto it = spec.consts.find(n.name);
  if (it == spec.consts.end()) throw std::runtime_error("Const node '" + n.name + "' has no value");
  auto t = std::make_shared<Tensor>();
  t->shape = it->second.shape;
  t->is_float = it->second.is_float;
  t->f = it->second.f32;
  t->i = it->second.ints;
  if (t->numel() != (t->is_float ? t->f.size() : t->i.size()))
    throw std::runtime_error("Const node '" + n.name + "' has " + std::to_string(t->is_float ? t->f.size() : t->i.size()) +
                             " values for shape " + ShapeString(t->shape));
  return t;
}
// CHAARFM_ENGINE_PROFILE=1: time per op kind, printed to stderr at exit (a debugging aid).
struct OpProfile {
  bool on = std::getenv("CHAARFM_ENGINE_PROFILE") != nullptr;
  std::map<std::string, double> seconds;
  ~OpProfile() {
    for (auto& [op, s] : seconds) std::fprintf(stderr, "profile %-20s %10.1f ms\n", op.c_str(), s * 1e3);
  }
};
OpProfile& Profile() {
  static OpProfile p;
  return p;
}
}  // namespace

GraphExecutor::GraphExecutor(const GraphSpec& spec, const std::vector<std::string>& feeds,
                             const std::vector<std::string>& outputs, ThreadPool* pool, bool fast)
    : pool_(pool), fast_(fast) {
  std::map<std::string, int> index;
  for (size_t k = 0; k < spec.nodes.size(); ++k) {
    if (!index.emplace(spec.nodes[k].name, static_cast<int>(k)).second)
      throw std::runtime_error("duplicate node name '" + spec.nodes[k].name + "'");
  }
  auto find = [&](const std::string& name) {
    auto it = index.find(name);
    if (it == index.end()) throw std::runtime_error("the graph has no node named '" + name + "'");
    return it->second;
  };
  const size_t count = spec.nodes.size();
  consts_.assign(count, nullptr);
  uses_.assign(count, 0);
  std::vector<char> is_feed(count, 0), state(count, 0);  // state: 0 new, 1 visiting, 2 done
  for (auto& f : feeds) { const int k = find(f); is_feed[k] = 1; feed_slots_.push_back(k); }

  std::function<void(int)> visit = [&](int k) {
    if (state[k] == 2) return;
    if (state[k] == 1) throw std::runtime_error("the graph has a cycle through '" + spec.nodes[k].name + "'");
    const NodeSpec& n = spec.nodes[k];
    if (is_feed[k]) { state[k] = 2; return; }
    if (!IsSupportedOp(n.op)) throw std::runtime_error("unsupported op " + n.op + " (node '" + n.name + "')");
    if (n.op == "Placeholder") throw std::runtime_error("placeholder '" + n.name + "' is needed but not fed");
    if (n.op == "Const") { consts_[k] = ConstTensor(spec, n); state[k] = 2; return; }
    state[k] = 1;
    Step step{&n, {}, k, nullptr};
    bool all_const = true;
    for (auto& in : n.inputs) {
      const int j = find(in);
      visit(j);
      step.inputs.push_back(j);
      if (!consts_[j]) all_const = false;
    }
    state[k] = 2;
    if (all_const) {  // fold now
      std::vector<TensorPtr> vals;
      for (int j : step.inputs) vals.push_back(consts_[j]);
      consts_[k] = EvalNode(n, vals, nullptr, false);
      return;
    }
    steps_.push_back(step);
  };
  for (auto& o : outputs) { const int k = find(o); visit(k); output_slots_.push_back(k); }
  for (auto& s : steps_) for (int j : s.inputs) ++uses_[j];
  for (int k : output_slots_) ++uses_[k];
  FuseConvEpilogues();
  // drop constants no step needs (folded intermediates)
  for (size_t k = 0; k < count; ++k)
    if (consts_[k] && uses_[k] == 0) consts_[k] = nullptr;
}

void GraphExecutor::FuseConvEpilogues() {
  std::vector<int> is_output(consts_.size(), 0);
  for (int k : output_slots_) is_output[k] = 1;
  // the single step reading a slot, when exactly one does and it is not an output
  auto sole_consumer = [&](int slot) -> int {
    if (uses_[slot] != 1 || is_output[slot]) return -1;
    for (size_t k = 0; k < steps_.size(); ++k)
      for (int j : steps_[k].inputs) if (j == slot) return static_cast<int>(k);
    return -1;
  };
  auto const_f = [&](int slot) -> const Tensor* {
    const Tensor* t = consts_[slot].get();
    return t && t->is_float ? t : nullptr;
  };
  std::vector<char> dead(steps_.size(), 0);
  for (size_t k = 0; k < steps_.size(); ++k) {
    Step& conv = steps_[k];
    if (conv.node->op != "Conv2D" || conv.inputs.size() != 2 || !const_f(conv.inputs[1])) continue;
    const Tensor& w = *consts_[conv.inputs[1]];
    if (w.shape.size() != 4) continue;
    const size_t co = static_cast<size_t>(w.shape[3]);
    const int b = sole_consumer(conv.output);
    if (b < 0 || steps_[b].node->op != "BiasAdd" || steps_[b].inputs[0] != conv.output) continue;
    const Tensor* bias = const_f(steps_[b].inputs[1]);
    if (!bias || bias->shape.size() != 1 || bias->numel() != co) continue;
    auto fe = std::make_shared<FusedEpilogue>();
    fe->bias = bias->f;
    int last = b;
    const int r = sole_consumer(steps_[b].output);
    if (r >= 0 && steps_[r].node->op == "Relu") {
      fe->ep.relu = true;
      last = r;
      const int n = sole_consumer(steps_[r].output);
      if (n >= 0 && steps_[n].node->op == "FusedBatchNorm" && steps_[n].inputs.size() == 5 &&
          steps_[n].inputs[0] == steps_[r].output) {
        const NodeSpec& bn = *steps_[n].node;
        auto tr = bn.attrs.find("is_training");
        auto df = bn.attrs.find("data_format");
        bool ok = (tr == bn.attrs.end() || !tr->second.b) && (df == bn.attrs.end() || df->second.s == "NHWC");
        const Tensor* p[4];
        for (int q = 0; q < 4 && ok; ++q) { p[q] = const_f(steps_[n].inputs[q + 1]); ok = p[q] && p[q]->numel() == co; }
        if (ok) {
          auto eps = bn.attrs.find("epsilon");
          fe->scale.resize(co);
          fe->shift.resize(co);
          batchnorm_params_f32(p[0]->f.data(), p[1]->f.data(), p[2]->f.data(), p[3]->f.data(),
                               eps == bn.attrs.end() ? 1e-4f : eps->second.f, co, fe->scale.data(), fe->shift.data());
          last = n;
        }
      }
    }
    fe->ep.bias = fe->bias.data();
    fe->ep.dft = &fe->dft;
    fe->ep.tall_dft = &fe->tall_dft;
    if (!fe->scale.empty()) { fe->ep.bn_scale = fe->scale.data(); fe->ep.bn_shift = fe->shift.data(); }
    // the fused steps are dropped; they no longer read their parameter slots
    std::vector<int> fused = {b};
    if (fe->ep.relu) fused.push_back(r);
    if (last != b && last != r) fused.push_back(last);
    // then a MaxPool with window == stride == [1, k], VALID, NHWC
    const int m = sole_consumer(steps_[last].output);
    if (m >= 0 && steps_[m].node->op == "MaxPool" && steps_[m].inputs.size() == 1) {
      const NodeSpec& mp = *steps_[m].node;
      auto ks = mp.attrs.find("ksize"), st = mp.attrs.find("strides"), pd = mp.attrs.find("padding");
      auto df = mp.attrs.find("data_format");
      if (ks != mp.attrs.end() && st != mp.attrs.end() && pd != mp.attrs.end() && pd->second.s == "VALID" &&
          (df == mp.attrs.end() || df->second.s == "NHWC") && ks->second.ints == st->second.ints &&
          ks->second.ints.size() == 4 && ks->second.ints[0] == 1 && ks->second.ints[1] == 1 &&
          ks->second.ints[3] == 1 && ks->second.ints[2] >= 1) {
        fe->pool_w = static_cast<size_t>(ks->second.ints[2]);
        fused.push_back(m);
        last = m;
      }
    }
    for (int q : fused) {
      dead[q] = 1;
      for (size_t j = 1; j < steps_[q].inputs.size(); ++j) --uses_[steps_[q].inputs[j]];
    }
    conv.output = steps_[last].output;
    conv.epilogue = fe;
  }
  std::vector<Step> kept;
  for (size_t k = 0; k < steps_.size(); ++k) if (!dead[k]) kept.push_back(steps_[k]);
  steps_ = std::move(kept);
}

std::vector<TensorPtr> GraphExecutor::Run(const std::vector<TensorPtr>& feed_values, ThreadPool* pool) const {
  if (feed_values.size() != feed_slots_.size()) throw std::runtime_error("wrong number of feed values");
  std::vector<TensorPtr> vals(consts_.size());
  std::vector<int> left = uses_;
  for (size_t k = 0; k < feed_slots_.size(); ++k) vals[feed_slots_[k]] = feed_values[k];
  for (size_t k = 0; k < consts_.size(); ++k) if (consts_[k]) vals[k] = consts_[k];
  for (const Step& s : steps_) {
    std::vector<TensorPtr> in;
    in.reserve(s.inputs.size());
    for (int j : s.inputs) {
      if (--left[j] == 0) in.push_back(std::move(vals[j]));  // last use: hand it over
      else in.push_back(vals[j]);
    }
    if (Profile().on) {
      const auto t0 = std::chrono::steady_clock::now();
      vals[s.output] = s.epilogue ? EvalConv2D(*s.node, in, pool, fast_, &s.epilogue->ep, s.epilogue->pool_w)
                                  : EvalNode(*s.node, in, pool, fast_);
      const std::string key = s.node->op == "Conv2D" ? "Conv2D " + s.node->name : s.node->op;
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      static std::mutex profile_mu;  // concurrent Runs (patch lanes) add to the one profile
      std::lock_guard<std::mutex> lock(profile_mu);
      Profile().seconds[key] += dt;
    } else {
      vals[s.output] = s.epilogue ? EvalConv2D(*s.node, in, pool, fast_, &s.epilogue->ep, s.epilogue->pool_w)
                                  : EvalNode(*s.node, in, pool, fast_);
    }
  }
  std::vector<TensorPtr> out;
  for (int k : output_slots_) out.push_back(vals[k]);
  return out;
}

}  // namespace chaarfm
