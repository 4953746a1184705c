// SPDX-License-Identifier: MIT
// MusicnnRunner tests on both MusiCNN graphs (fixtures from test/native/dump-engine-fixtures.mjs):
// overlap reuse == plain per-patch execution bit for bit, threads 1 == 2 == 3 (patch lanes) bit for bit,
// chunking of the frame stream does not matter, fast kernels vs reference kernels, and the
// rows against TF.js's CPU backend (|diff| <= 1e-4 per component).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../src/kernels/cpu_features.h"

#include "../src/graph/musicnn_runner.h"
#include "graph_fixture.h"
#include "test_util.h"

using namespace chaarfm;
using namespace chaarfm::test;

namespace {

struct Fixture {
  GraphSpec graph;
  std::vector<float> frames, tfjs;
  size_t patches = 0;
};

bool Load(const std::string& name, Fixture* f) {
  const std::string dir = Registry::Fixtures();
  if (dir.empty()) return false;
  const std::string base = dir + "/" + name;
  f->graph = LoadGraph(base);
  f->graph.outputs = {"model/dense/BiasAdd", "model/Sigmoid"};
  f->frames = ReadFloats(base + ".frames.bin");
  f->tfjs = ReadFloats(base + ".tfjs.bin");
  f->patches = (f->frames.size() / 96 - 187) / 93 + 1;
  return true;
}

std::vector<float> Patches(const Fixture& f) {
  std::vector<float> p;
  for (size_t k = 0; k < f.patches; ++k)
    p.insert(p.end(), f.frames.begin() + k * 93 * 96, f.frames.begin() + (k * 93 + 187) * 96);
  return p;
}

// Mean of rows as the runner (and the portable path's RowMean) computes it.
std::vector<float> RowMean(const std::vector<float>& rows, size_t w) {
  const size_t n = rows.size() / w;
  std::vector<float> s(rows.begin(), rows.begin() + w);
  for (size_t r = 1; r < n; ++r) for (size_t j = 0; j < w; ++j) s[j] = s[j] + rows[r * w + j];
  for (auto& v : s) v = v / static_cast<float>(n);
  return s;
}

MusicnnRunner::Result Stream(MusicnnRunner& r, const Fixture& f, size_t chunk) {
  const size_t n = f.frames.size() / 96;
  for (size_t k = 0; k < n; k += chunk) r.PushFrames(f.frames.data() + k * 96, std::min(chunk, n - k));
  return r.Finish();
}

void CheckGraph(const char* name) {
  Fixture f;
  if (!Load(name, &f)) SKIP("no fixtures (--fixtures DIR)");
  MusicnnRunner::Options plain;
  plain.overlap_reuse = false;
  MusicnnRunner one(f.graph, 1), two(f.graph, 2), ref(f.graph, 1, plain);
  CHECK(one.overlap_reuse() && !ref.overlap_reuse());
  CHECK(one.output_width(0) == 200);
  const auto patches = Patches(f);
  const auto rows = ref.RunPatches(patches.data(), f.patches);
  // TF.js rows
  size_t off = 0;
  for (size_t o = 0; o < 2; ++o) {
    const size_t w = one.output_width(o);
    double worst = 0;
    for (size_t i = 0; i < f.patches * w; ++i) worst = std::max(worst, double(std::fabs(rows[o][i] - f.tfjs[off + i])));
    off += f.patches * w;
    CHECK_MSG(worst <= 1e-4, name << " output " << o << " vs TF.js: max |diff| " << worst);
    std::cout << "  " << name << " output " << o << ": max |native - tfjs| = " << worst << "\n";
  }
  // streaming with reuse (several chunkings, 1 and 2 threads) == per-patch, bit for bit
  for (size_t chunk : {size_t(1), size_t(50), size_t(1000)}) {
    auto a = Stream(one, f, chunk);
    auto b = Stream(two, f, chunk);
    auto c = Stream(ref, f, chunk);
    CHECK(a.patches == f.patches && b.patches == f.patches && c.patches == f.patches && a.finite);
    for (size_t o = 0; o < 2; ++o) {
      const auto want = RowMean(rows[o], one.output_width(o));
      CHECK_MSG(BitEqual(a.means[o], want), name << " reuse vs per-patch, chunk " << chunk << " output " << o);
      CHECK_MSG(BitEqual(b.means[o], want), name << " threads 2 vs per-patch, chunk " << chunk << " output " << o);
      CHECK_MSG(BitEqual(c.means[o], want), name << " plain stream vs per-patch, chunk " << chunk);
    }
  }
  // explicit patches on 2 threads, batch 1 vs batch 4
  MusicnnRunner::Options b1;
  b1.batch = 1;
  MusicnnRunner single(f.graph, 2, b1);
  const auto rows2 = single.RunPatches(patches.data(), f.patches);
  CHECK(BitEqual(rows2[0], rows[0]) && BitEqual(rows2[1], rows[1]));
  // patch lanes (threads >= 2 run a batch's patches in parallel groups): 3 threads (a patch a
  // lane), 2 threads on batches of 3 (lanes of 1 and 2 patches), streamed and explicit: the
  // same bits as one thread
  MusicnnRunner three(f.graph, 3);
  MusicnnRunner::Options b3;
  b3.batch = 3;
  MusicnnRunner two_b3(f.graph, 2, b3);
  for (MusicnnRunner* r : {&three, &two_b3}) {
    auto s = Stream(*r, f, 50);
    const auto pr = r->RunPatches(patches.data(), f.patches);
    for (size_t o = 0; o < 2; ++o) {
      CHECK_MSG(BitEqual(s.means[o], RowMean(rows[o], one.output_width(o))), name << " lanes: stream output " << o);
      CHECK_MSG(BitEqual(pr[o], rows[o]), name << " lanes: patches output " << o);
    }
  }
  // generic reference kernels: same engine, reuse == per-patch bit for bit, close to fast path
  MusicnnRunner::Options slow;
  slow.fast_kernels = false;
  MusicnnRunner gen(f.graph, 2, slow);
  const auto grows = gen.RunPatches(patches.data(), f.patches);
  auto g = Stream(gen, f, 77);
  CHECK(BitEqual(g.means[0], RowMean(grows[0], 200)));
  double worst = 0;
  for (size_t i = 0; i < grows[0].size(); ++i) worst = std::max(worst, double(std::fabs(grows[0][i] - rows[0][i])));
  CHECK_MSG(worst <= 1e-4, name << " reference kernels vs fast: " << worst);
  std::cout << "  " << name << ": max |reference kernels - fast| = " << worst << "\n";
  // too short for one patch: no rows
  one.PushFrames(f.frames.data(), 186);
  auto none = one.Finish();
  CHECK(none.patches == 0);
}


// Across ISAs (each one CpuIsa() allows, lowered in-process by SetIsaCapForTesting): the end
// vectors (means of both outputs over the stream, with the overlap reuse) agree with the
// highest ISA's within 1e-5 per component and cosine >= 0.999999; per ISA the same bits for
// two runs, 1 and 2 threads. Prints a digest of each ISA's means so that separate processes
// (test/native-engine.test.ts runs this binary under each CHAARFM_MAX_ISA) can be compared.
#if defined(CHAARFM_WASM_RELAXED)
constexpr bool kRelaxedWasmBuild = true;
#else
constexpr bool kRelaxedWasmBuild = false;
#endif

uint64_t Digest(const std::vector<std::vector<float>>& v) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& x : v)
    for (float f : x) {
      uint32_t b;
      std::memcpy(&b, &f, 4);
      for (int i = 0; i < 4; ++i) h = (h ^ ((b >> (8 * i)) & 0xFF)) * 1099511628211ull;
    }
  return h;
}

void CheckIsas(const char* name) {
  Fixture f;
  if (!Load(name, &f)) SKIP("no fixtures (--fixtures DIR)");
  const Isa top = CpuIsa();
  std::vector<Isa> isas = {top};
  if (top == Isa::kAvx512) isas.push_back(Isa::kAvx2);
  if (top != Isa::kGeneric) isas.push_back(Isa::kGeneric);
  std::vector<std::vector<float>> want;
  for (Isa isa : isas) {
    SetIsaCapForTesting(isa);
    CHECK(CpuIsa() == isa);
    MusicnnRunner one(f.graph, 1), two(f.graph, 2);
    const auto a = Stream(one, f, 93), b = Stream(one, f, 1000), c = Stream(two, f, 7);
    CHECK_MSG(a.means == b.means && a.means == c.means, name << " " << IsaName(isa) << ": runs/threads differ");
    std::cout << "  digest " << name << " " << IsaName(isa) << " " << std::hex << Digest(a.means) << std::dec << "\n";
    if (want.empty()) { want = a.means; continue; }
    for (size_t o = 0; o < want.size(); ++o) {
      double worst = 0, dot = 0, na = 0, nb = 0;
      for (size_t i = 0; i < want[o].size(); ++i) {
        const double x = a.means[o][i], y = want[o][i];
        worst = std::max(worst, std::fabs(x - y));
        dot += x * y; na += x * x; nb += y * y;
      }
      const double cosine = dot / std::sqrt(na * nb);
      // SIMD128 has no FMA: its kernels do the generic ones' operations in their order, bit for
      // bit (the relaxed-SIMD build's fuse, so there only the bounds below hold)
      if (top == Isa::kWasm128 && !kRelaxedWasmBuild) CHECK_MSG(worst == 0, name << " output " << o << " generic vs wasm128 differ: " << worst);
      CHECK_MSG(worst <= 1e-5 && cosine >= 0.999999, name << " output " << o << " " << IsaName(isa) << " vs " << IsaName(top)
                                                          << ": max |diff| " << worst << ", cosine " << cosine);
      std::cout << "  " << name << " output " << o << ": " << IsaName(isa) << " vs " << IsaName(top) << " max |diff| "
                << worst << ", 1 - cosine " << 1 - cosine << "\n";
    }
  }
  SetIsaCapForTesting(Isa::kAvx512);
}

}  // namespace

TEST(runner_msd_musicnn) { CheckGraph("msd"); }
TEST(runner_genre_dortmund) { CheckGraph("genre"); }
TEST(runner_msd_isas_agree) { CheckIsas("msd"); }
TEST(runner_genre_isas_agree) { CheckIsas("genre"); }
