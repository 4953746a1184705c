// SPDX-License-Identifier: MIT
// The C surface of the WebAssembly build of the engine (native/wasm/CMakeLists.txt), called by
// src/embed/wasm-engine-binding.ts. Mirrors the addon's Binding: a model from a flat graph
// buffer (graph_from_blob.h), sessions that take mono PCM chunks at the file's own rate
// (Resampler -> FrameCutter -> MelFrontend -> MusicnnRunner, as native/src/session.cc, on the
// calling thread: the module has no threads) and finish with the mean of each output;
// runPatches, resample and melBands for tests.
// Errors: functions return 0 / -1 and chaarfm_last_error() says why (the exception's text);
// nothing else changes on a failed call. One module instance per JS thread; not thread-safe.
#include <emscripten/emscripten.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "audio/mel_frontend.h"
#include "audio/resample.h"
#include "graph/musicnn_runner.h"
#include "kernels/cpu_features.h"
#include "kernels/wasm128_f32.h"
#include "wasm/graph_from_blob.h"

namespace {

using chaarfm::MusicnnRunner;

std::string g_error;

struct Model {
  chaarfm::GraphSpec spec;
  std::unique_ptr<MusicnnRunner> idle[2];  // one runner kept per kernel choice, ready after Finish()
  std::vector<size_t> widths;              // per output
};

struct Session {
  Model* model;
  bool fast;
  std::unique_ptr<chaarfm::Resampler> resampler;
  std::vector<float> pcm16k;
  float peak = 0.f;
  chaarfm::FrameCutter cutter;
  chaarfm::MelFrontend mel;
  std::unique_ptr<MusicnnRunner> runner;
  std::vector<float> frames, bands;
  size_t frame_count = 0;
  bool finished = false;
  MusicnnRunner::Result result;
};

template <class F>
int Guard(F&& f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    g_error = e.what();
  } catch (...) {
    g_error = "unknown error";
  }
  return -1;
}

MusicnnRunner::Options RunnerOptions(bool fast) {
  MusicnnRunner::Options o;
  o.fast_kernels = fast;
  return o;
}

void Deliver(Session* s, size_t count);

// 16 kHz samples -> frames -> mel -> engine
void Cut(Session* s, bool end) {
  s->frames.clear();
  size_t count = s->cutter.Push(s->pcm16k.data(), s->pcm16k.size(), &s->frames);
  s->pcm16k.clear();
  if (end) count += s->cutter.End(&s->frames);
  Deliver(s, count);
}

void Deliver(Session* s, size_t count) {
  if (count == 0) return;
  s->bands.resize(count * chaarfm::kMelBands);
  s->mel.Compute(s->frames.data(), count, s->bands.data());
  s->runner->PushFrames(s->bands.data(), count);
  s->frame_count += count;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* chaarfm_last_error() { return g_error.c_str(); }
// The fast kernels' ISA (cpu_features.h): "wasm128" in the -msimd128 build, "wasm-relaxed" in
// the relaxed-SIMD build (the same kernels with relaxed_madd, wasm128_f32.h); "generic" under
// CHAARFM_MAX_ISA=generic.
EMSCRIPTEN_KEEPALIVE const char* chaarfm_isa() {
  const chaarfm::Isa isa = chaarfm::CpuIsa();
  if (isa == chaarfm::Isa::kWasm128 && chaarfm::kWasmRelaxedFma) return "wasm-relaxed";
  return chaarfm::IsaName(isa);
}

EMSCRIPTEN_KEEPALIVE Model* chaarfm_model_create(const uint8_t* blob, size_t size) {
  Model* out = nullptr;
  Guard([&] {
    auto m = std::make_unique<Model>();
    m->spec = chaarfm::GraphFromBlob(blob, size);
    m->idle[1] = std::make_unique<MusicnnRunner>(m->spec, 1, RunnerOptions(true));  // validates the graph
    for (size_t i = 0; i < m->idle[1]->outputs(); ++i) m->widths.push_back(m->idle[1]->output_width(i));
    out = m.release();
  });
  return out;
}

EMSCRIPTEN_KEEPALIVE void chaarfm_model_free(Model* m) { delete m; }

// The resampler's dot-product variant: "wasm128", or "generic" under CHAARFM_MAX_ISA=generic.
EMSCRIPTEN_KEEPALIVE const char* chaarfm_resampler_variant() { return chaarfm::SincDotBestName(); }

// sample_rate: the PCM's rate (any within 256x of 16 kHz; 16000 passes samples through).
EMSCRIPTEN_KEEPALIVE Session* chaarfm_session_open(Model* m, int fast, double sample_rate) {
  Session* out = nullptr;
  Guard([&] {
    auto s = std::make_unique<Session>();
    s->resampler = std::make_unique<chaarfm::Resampler>(sample_rate, 1);  // throws for a bad rate
    s->model = m;
    s->fast = fast != 0;
    auto& idle = m->idle[s->fast];
    s->runner = idle ? std::move(idle) : std::make_unique<MusicnnRunner>(m->spec, 1, RunnerOptions(s->fast));
    out = s.release();
  });
  return out;
}

// pcm: n mono samples at the session's rate. Returns 0, or -1 (NaN/Inf samples, or an engine
// error; a rejected chunk changes nothing).
EMSCRIPTEN_KEEPALIVE int chaarfm_session_push(Session* s, const float* pcm, size_t n) {
  return Guard([&] {
    if (s->finished) throw std::logic_error("push after finish");
    float peak = s->peak;
    for (size_t i = 0; i < n; ++i) {  // same words as NON_FINITE_AUDIO in src/embed/embedder.ts
      const float a = std::fabs(pcm[i]);
      if (!(a <= FLT_MAX)) throw std::invalid_argument("the audio contains NaN or infinite samples");
      peak = std::max(peak, a);
    }
    s->peak = peak;
    s->resampler->Push(pcm, n, &s->pcm16k);
    Cut(s, false);
  });
}

// bands: count x 96 log-mel frames, straight to the engine (benches; not mixed with PCM pushes).
EMSCRIPTEN_KEEPALIVE int chaarfm_session_push_bands(Session* s, const float* bands, size_t count) {
  return Guard([&] {
    if (s->finished) throw std::logic_error("push after finish");
    s->runner->PushFrames(bands, count);
    s->frame_count += count;
  });
}

EMSCRIPTEN_KEEPALIVE size_t chaarfm_session_frames(const Session* s) { return s->frame_count; }
// complete patches so far (187 frames, hop 93)
EMSCRIPTEN_KEEPALIVE size_t chaarfm_session_patches_so_far(const Session* s) {
  return s->frame_count < 187 ? 0 : (s->frame_count - 187) / 93 + 1;
}
EMSCRIPTEN_KEEPALIVE double chaarfm_session_input_samples(const Session* s) { return static_cast<double>(s->resampler->input_samples()); }
EMSCRIPTEN_KEEPALIVE double chaarfm_session_output_samples(const Session* s) { return static_cast<double>(s->resampler->output_samples()); }
EMSCRIPTEN_KEEPALIVE float chaarfm_session_peak(const Session* s) { return s->peak; }

EMSCRIPTEN_KEEPALIVE int chaarfm_session_finish(Session* s) {
  return Guard([&] {
    if (s->finished) throw std::logic_error("finish called twice");
    s->resampler->End(&s->pcm16k);
    Cut(s, true);
    s->result = s->runner->Finish();
    s->finished = true;
    auto& idle = s->model->idle[s->fast];
    if (!idle) idle = std::move(s->runner);
  });
}

EMSCRIPTEN_KEEPALIVE size_t chaarfm_session_outputs(const Session* s) { return s->result.means.size(); }
EMSCRIPTEN_KEEPALIVE size_t chaarfm_session_output_width(const Session* s, size_t i) { return s->result.means.at(i).size(); }
EMSCRIPTEN_KEEPALIVE const float* chaarfm_session_mean(const Session* s, size_t i) { return s->result.means.at(i).data(); }
EMSCRIPTEN_KEEPALIVE size_t chaarfm_session_patches(const Session* s) { return s->result.patches; }
EMSCRIPTEN_KEEPALIVE int chaarfm_session_finite(const Session* s) { return s->result.finite ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE void chaarfm_session_close(Session* s) { delete s; }

// count x 512 frames -> count x 96 log-mel bands.
EMSCRIPTEN_KEEPALIVE int chaarfm_mel_bands(const float* frames, size_t count, float* bands) {
  return Guard([&] {
    chaarfm::MelFrontend mel;
    mel.Compute(frames, count, bands);
  });
}

// n samples at `rate` through a fresh Resampler, pushed `chunk` at a time (tests): the 16 kHz
// samples go to a buffer the module allocates (*out, *out_n; the caller frees it with free()).
EMSCRIPTEN_KEEPALIVE int chaarfm_resample(const float* pcm, size_t n, double rate, size_t chunk, float** out, size_t* out_n) {
  return Guard([&] {
    if (chunk == 0) throw std::invalid_argument("Expected a positive chunk length");
    chaarfm::Resampler r(rate, 1);
    std::vector<float> y;
    for (size_t at = 0; at < n; at += chunk) r.Push(pcm + at, std::min(chunk, n - at), &y);
    r.End(&y);
    float* p = static_cast<float*>(std::malloc(std::max<size_t>(1, y.size()) * sizeof(float)));
    if (!p) throw std::bad_alloc();
    std::copy(y.begin(), y.end(), p);
    *out = p;
    *out_n = y.size();
  });
}

// n x 187 x 96 patches -> per output n x width rows, written to out (the caller sizes it from
// chaarfm_model_output_width); fast = 0: the generic reference kernels.
EMSCRIPTEN_KEEPALIVE int chaarfm_run_patches(Model* m, const float* patches, size_t n, int fast, float* out) {
  return Guard([&] {
    MusicnnRunner r(m->spec, 1, RunnerOptions(fast != 0));
    auto rows = r.RunPatches(patches, n);
    for (auto& o : rows) out = std::copy(o.begin(), o.end(), out);
  });
}

EMSCRIPTEN_KEEPALIVE size_t chaarfm_model_outputs(const Model* m) { return m->widths.size(); }
EMSCRIPTEN_KEEPALIVE size_t chaarfm_model_output_width(const Model* m, size_t i) { return m->widths.at(i); }

}  // extern "C"
