// SPDX-License-Identifier: MIT
// The C surface of the WebAssembly build of the engine (native/wasm/CMakeLists.txt), called by
// src/embed/wasm-engine-binding.ts. Mirrors the addon's Binding: a model from a flat graph
// buffer (graph_from_blob.h), sessions that take 16 kHz mono PCM chunks (FrameCutter ->
// MelFrontend -> MusicnnRunner on the calling thread: the module has no threads) and finish
// with the mean of each output; runPatches and melBands for tests. Until the engine has its
// own resampler the caller resamples (libsamplerate-js).
// Errors: functions return 0 / -1 and chaarfm_last_error() says why (the exception's text);
// nothing else changes on a failed call. One module instance per JS thread; not thread-safe.
#include <emscripten/emscripten.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "audio/mel_frontend.h"
#include "graph/musicnn_runner.h"
#include "kernels/backend.h"
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
EMSCRIPTEN_KEEPALIVE const char* chaarfm_backend_name() { return chaarfm::FastBackendName(); }

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

EMSCRIPTEN_KEEPALIVE Session* chaarfm_session_open(Model* m, int fast) {
  Session* out = nullptr;
  Guard([&] {
    auto s = std::make_unique<Session>();
    s->model = m;
    s->fast = fast != 0;
    auto& idle = m->idle[s->fast];
    s->runner = idle ? std::move(idle) : std::make_unique<MusicnnRunner>(m->spec, 1, RunnerOptions(s->fast));
    out = s.release();
  });
  return out;
}

// pcm: n samples at 16 kHz. Returns 0, or -1 (NaN/Inf samples, or an engine error).
EMSCRIPTEN_KEEPALIVE int chaarfm_session_push(Session* s, const float* pcm, size_t n) {
  return Guard([&] {
    if (s->finished) throw std::logic_error("push after finish");
    for (size_t i = 0; i < n; ++i)  // same words as NON_FINITE_AUDIO in src/embed/embedder.ts
      if (!(std::fabs(pcm[i]) <= FLT_MAX)) throw std::invalid_argument("the audio contains NaN or infinite samples");
    s->frames.clear();
    Deliver(s, s->cutter.Push(pcm, n, &s->frames));
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

EMSCRIPTEN_KEEPALIVE int chaarfm_session_finish(Session* s) {
  return Guard([&] {
    if (s->finished) throw std::logic_error("finish called twice");
    s->frames.clear();
    Deliver(s, s->cutter.End(&s->frames));
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
