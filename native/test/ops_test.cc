// SPDX-License-Identifier: MIT
// Graph-op tests: every op of the MusiCNN set evaluated through EvalNode / GraphExecutor and
// compared with a plain scalar reference (normalised squared error < 1e-10, or exact for
// data movement), plus constant folding and the error messages for bad graphs.
#include <cmath>
#include <stdexcept>

#include "../src/graph/graph_executor.h"
#include "../src/graph/graph_ops.h"
#include "test_util.h"

using namespace chaarfm;
using namespace chaarfm::test;

namespace {

TensorPtr F(std::vector<int64_t> shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  auto t = std::make_shared<Tensor>();
  t->shape = std::move(shape);
  t->f = Random(t->numel(), seed, lo, hi);
  return t;
}
TensorPtr I(std::vector<int64_t> shape, std::vector<int64_t> v) {
  auto t = std::make_shared<Tensor>();
  t->is_float = false;
  t->shape = std::move(shape);
  t->i = std::move(v);
  return t;
}
NodeSpec Node(const std::string& op) { NodeSpec n; n.name = "t/" + op; n.op = op; return n; }
AttrValue Ints(std::vector<int64_t> v) { AttrValue a; a.kind = AttrValue::Kind::kIntList; a.ints = std::move(v); return a; }
AttrValue Str(const std::string& s) { AttrValue a; a.kind = AttrValue::Kind::kString; a.s = s; return a; }
AttrValue Bool(bool b) { AttrValue a; a.kind = AttrValue::Kind::kBool; a.b = b; return a; }
AttrValue Int(int64_t i) { AttrValue a; a.kind = AttrValue::Kind::kInt; a.i = i; return a; }

TensorPtr Eval(const NodeSpec& n, std::vector<TensorPtr> in) { return EvalNode(n, in, nullptr, true); }

}  // namespace

TEST(op_conv2d_biasadd_relu_batchnorm_maxpool) {
  auto x = F({2, 10, 12, 1}, 1, 0.f, 4.f), w = F({3, 5, 1, 4}, 2);
  for (const char* pad : {"VALID", "SAME"}) {
    NodeSpec c = Node("Conv2D");
    c.attrs["padding"] = Str(pad);
    c.attrs["strides"] = Ints({1, 1, 1, 1});
    auto y = Eval(c, {x, w});
    const bool same = std::string(pad) == "SAME";
    const int64_t oh = same ? 10 : 8, ow = same ? 12 : 8, pt = same ? 1 : 0, pl = same ? 2 : 0;
    CHECK((y->shape == std::vector<int64_t>{2, oh, ow, 4}));
    std::vector<double> r(y->numel());
    for (int64_t n = 0; n < 2; ++n) for (int64_t a = 0; a < oh; ++a) for (int64_t b = 0; b < ow; ++b) for (int64_t o = 0; o < 4; ++o) {
      double acc = 0;
      for (int64_t ky = 0; ky < 3; ++ky) for (int64_t kx = 0; kx < 5; ++kx) {
        const int64_t iy = a + ky - pt, ix = b + kx - pl;
        if (iy >= 0 && ix >= 0 && iy < 10 && ix < 12) acc += double(x->f[(n * 10 + iy) * 12 + ix]) * w->f[(ky * 5 + kx) * 4 + o];
      }
      r[((n * oh + a) * ow + b) * 4 + o] = acc;
    }
    CHECK_MSG(Nse(y->f, r) < kNseMax, pad);
  }
  auto v = F({3, 4}, 3), b = F({4}, 4);
  auto yb = Eval(Node("BiasAdd"), {v, b});
  std::vector<double> rb(12);
  for (int i = 0; i < 12; ++i) rb[i] = double(v->f[i]) + b->f[i % 4];
  CHECK(Nse(yb->f, rb) < kNseMax);
  auto yr = Eval(Node("Relu"), {v});
  for (int i = 0; i < 12; ++i) CHECK(yr->f[i] == (v->f[i] > 0 ? v->f[i] : 0.f));
  NodeSpec bn = Node("FusedBatchNorm");
  bn.attrs["epsilon"] = AttrValue{AttrValue::Kind::kFloat, 0, 1e-3f};
  auto g = F({4}, 5, 0.5f, 2.f), be = F({4}, 6), m = F({4}, 7), var = F({4}, 8, 0.1f, 2.f);
  auto ybn = Eval(bn, {v, g, be, m, var});
  std::vector<double> rbn(12);
  for (int i = 0; i < 12; ++i) { const int c = i % 4; rbn[i] = (double(v->f[i]) - m->f[c]) / std::sqrt(double(var->f[c]) + 1e-3) * g->f[c] + be->f[c]; }
  CHECK(Nse(ybn->f, rbn) < kNseMax);
  NodeSpec mp = Node("MaxPool");
  mp.attrs["ksize"] = Ints({1, 1, 6, 1});
  mp.attrs["strides"] = Ints({1, 1, 6, 1});
  mp.attrs["padding"] = Str("VALID");
  auto px = F({1, 2, 12, 3}, 9);
  auto yp = Eval(mp, {px});
  CHECK((yp->shape == std::vector<int64_t>{1, 2, 2, 3}));
  for (int t = 0; t < 2; ++t) for (int o = 0; o < 2; ++o) for (int c = 0; c < 3; ++c) {
    float mx = -1e30f;
    for (int k = 0; k < 6; ++k) mx = std::max(mx, px->f[(t * 12 + o * 6 + k) * 3 + c]);
    CHECK(yp->f[(t * 2 + o) * 3 + c] == mx);
  }
}

TEST(op_data_movement) {
  auto x = F({2, 3, 4}, 10);
  // ExpandDims, Squeeze, Reshape keep values
  NodeSpec ed = Node("ExpandDims");
  auto e = Eval(ed, {x, I({}, {3})});
  CHECK((e->shape == std::vector<int64_t>{2, 3, 4, 1}) && e->f == x->f);
  NodeSpec sq = Node("Squeeze");
  sq.attrs["squeeze_dims"] = Ints({3});
  CHECK((Eval(sq, {e})->shape == std::vector<int64_t>{2, 3, 4}));
  auto rs = Eval(Node("Reshape"), {x, I({2}, {2, -1})});
  CHECK((rs->shape == std::vector<int64_t>{2, 12}) && rs->f == x->f);
  // Pad
  auto p = Eval(Node("Pad"), {x, I({3, 2}, {0, 0, 2, 1, 0, 0})});
  CHECK((p->shape == std::vector<int64_t>{2, 6, 4}));
  for (int n = 0; n < 2; ++n) for (int t = 0; t < 6; ++t) for (int c = 0; c < 4; ++c) {
    const float want = (t >= 2 && t < 5) ? x->f[(n * 3 + t - 2) * 4 + c] : 0.f;
    CHECK(p->f[(n * 6 + t) * 4 + c] == want);
  }
  // Transpose [0,2,1]
  auto tr = Eval(Node("Transpose"), {x, I({3}, {0, 2, 1})});
  CHECK((tr->shape == std::vector<int64_t>{2, 4, 3}));
  for (int n = 0; n < 2; ++n) for (int a = 0; a < 3; ++a) for (int b = 0; b < 4; ++b)
    CHECK(tr->f[(n * 4 + b) * 3 + a] == x->f[(n * 3 + a) * 4 + b]);
  // ConcatV2 on axis 2 and axis -1
  auto y = F({2, 3, 2}, 11);
  auto c = Eval(Node("ConcatV2"), {x, y, I({}, {-1})});
  CHECK((c->shape == std::vector<int64_t>{2, 3, 6}));
  for (int r = 0; r < 6; ++r) for (int k = 0; k < 6; ++k)
    CHECK(c->f[r * 6 + k] == (k < 4 ? x->f[r * 4 + k] : y->f[r * 2 + k - 4]));
  // Shape, StridedSlice (shrink), Pack
  auto sh = Eval(Node("Shape"), {x});
  CHECK(!sh->is_float && (sh->i == std::vector<int64_t>{2, 3, 4}));
  NodeSpec ss = Node("StridedSlice");
  ss.attrs["shrink_axis_mask"] = Int(1);
  auto s0 = Eval(ss, {sh, I({1}, {0}), I({1}, {1}), I({1}, {1})});
  CHECK(s0->shape.empty() && (s0->i == std::vector<int64_t>{2}));
  auto pk = Eval(Node("Pack"), {s0, I({}, {-1})});
  CHECK((pk->shape == std::vector<int64_t>{2}) && (pk->i == std::vector<int64_t>{2, -1}));
}

TEST(op_arithmetic_reductions_matmul) {
  auto a = F({2, 3, 4}, 12), b = F({1, 3, 1}, 13);
  const char* names[] = {"Add", "Sub", "Mul", "SquaredDifference"};
  for (int k = 0; k < 4; ++k) {
    auto y = Eval(Node(names[k]), {a, b});
    std::vector<double> r(24);
    for (int i = 0; i < 24; ++i) {
      const double p = a->f[i], q = b->f[(i / 4) % 3];
      r[i] = k == 0 ? p + q : k == 1 ? p - q : k == 2 ? p * q : (p - q) * (p - q);
    }
    CHECK_MSG(Nse(y->f, r) < kNseMax, names[k]);
  }
  auto pos = F({5}, 14, 0.1f, 3.f);
  auto rq = Eval(Node("Rsqrt"), {pos});
  auto sg = Eval(Node("Sigmoid"), {pos});
  std::vector<double> r1(5), r2(5);
  for (int i = 0; i < 5; ++i) { r1[i] = 1 / std::sqrt(double(pos->f[i])); r2[i] = 1 / (1 + std::exp(-double(pos->f[i]))); }
  CHECK(Nse(rq->f, r1) < kNseMax);
  CHECK(Nse(sg->f, r2) < kNseMax);
  for (bool keep : {false, true}) {
    NodeSpec mx = Node("Max"), mn = Node("Mean");
    mx.attrs["keep_dims"] = Bool(keep);
    mn.attrs["keep_dims"] = Bool(keep);
    auto ym = Eval(mx, {a, I({}, {1})});
    auto ya = Eval(mn, {a, I({1}, {1})});
    CHECK((ym->shape == (keep ? std::vector<int64_t>{2, 1, 4} : std::vector<int64_t>{2, 4})));
    std::vector<double> rm(8), ra(8);
    for (int n = 0; n < 2; ++n) for (int c = 0; c < 4; ++c) {
      double m = -1e30, s = 0;
      for (int t = 0; t < 3; ++t) { m = std::max(m, double(a->f[(n * 3 + t) * 4 + c])); s += a->f[(n * 3 + t) * 4 + c]; }
      rm[n * 4 + c] = m;
      ra[n * 4 + c] = s / 3;
    }
    CHECK(Nse(ym->f, rm) < kNseMax);
    CHECK(Nse(ya->f, ra) < kNseMax);
  }
  auto A = F({3, 40}, 15), B = F({40, 7}, 16);
  auto mm = Eval(Node("MatMul"), {A, B});
  std::vector<double> rmm(21);
  for (int i = 0; i < 3; ++i) for (int j = 0; j < 7; ++j) { double s = 0; for (int k = 0; k < 40; ++k) s += double(A->f[i * 40 + k]) * B->f[k * 7 + j]; rmm[i * 7 + j] = s; }
  CHECK(Nse(mm->f, rmm) < kNseMax);
}

TEST(executor_folds_constants_and_names_errors) {
  GraphSpec g;
  g.input = "x";
  auto add_node = [&](std::string name, std::string op, std::vector<std::string> in) {
    NodeSpec n; n.name = name; n.op = op; n.inputs = in; g.nodes.push_back(n);
  };
  add_node("x", "Placeholder", {});
  add_node("v", "Const", {});
  add_node("eps", "Const", {});
  add_node("v/read", "Identity", {"v"});
  add_node("s", "Add", {"v/read", "eps"});
  add_node("r", "Rsqrt", {"s"});
  add_node("y", "Mul", {"x", "r"});
  g.consts["v"] = TensorSpec{{2}, {3.f, 8.f}, {}, true};
  g.consts["eps"] = TensorSpec{{}, {1.f}, {}, true};
  GraphExecutor ex(g, {"x"}, {"y"}, nullptr, true);
  CHECK(ex.steps() == 1);  // only the Mul is left after folding
  auto x = std::make_shared<Tensor>();
  x->shape = {2};
  x->f = {4.f, 9.f};
  auto y = ex.Run({x});
  CHECK(y[0]->f[0] == 4.f * (1.f / std::sqrt(4.f)) && y[0]->f[1] == 9.f * (1.f / std::sqrt(9.f)));
  CHECK(x->f[0] == 4.f);  // a fed value is never overwritten
  g.nodes[5].op = "Erf";
  bool threw = false;
  try { GraphExecutor bad(g, {"x"}, {"y"}, nullptr, true); } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("unsupported op Erf") != std::string::npos;
  }
  CHECK(threw);
  threw = false;
  try { GraphExecutor bad(g, {"x"}, {"nope"}, nullptr, true); } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("no node named 'nope'") != std::string::npos;
  }
  CHECK(threw);
  threw = false;
  NodeSpec c = Node("Conv2D");
  c.attrs["padding"] = Str("VALID");
  try { Eval(c, {F({1, 4, 4, 2}, 1), F({2, 2, 3, 1}, 2)}); } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("does not match input") != std::string::npos;
  }
  CHECK(threw);
}
