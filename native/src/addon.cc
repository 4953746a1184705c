// SPDX-License-Identifier: MIT
// The addon's JS surface (typed in src/embed/native-binding.ts). This file only registers
// functions; each call copies its inputs out of V8 on the JS thread, does the work on a libuv
// worker (Napi::AsyncWorker) and builds the JS result back on the JS thread.
//   info()                                   sync   -> { engine, napiVersion, resampler, isa, cpuIsa }
//   createModel(graph)                       sync   -> Model handle (copies the graph; cheap)
//   openSession(model, sampleRate, threads)  async  -> Promise<Session handle>
//   sessionPush(session, pcm)                async  -> Promise<{ inputSamples, frames, patches, peak }>
//   sessionFinish(session)                   async  -> Promise<{ means[], patches, frames, ... }>
//   sessionClose(session)                    sync   (frees now, or when a running call ends)
//   runPatches(model, patches, threads)      async  -> Promise<Float32Array[]>   (tests, bench)
//   runFrames(model, frames, threads, reuse) async  -> Promise<{ means[], patches }> (tests, bench)
//   resample(pcm, sampleRate, chunk, threads) async -> Promise<Float32Array>     (tests, bench)
//   melBands(frames)                         async  -> Promise<Float32Array>     (tests, bench)
//   frontend(pcm16k)                         async  -> Promise<Float32Array>     (tests, bench)
// One call at a time per session: a second push/finish while one runs is an Error.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <typeinfo>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "audio/mel_frontend.h"
#include "audio/resample.h"
#include "kernels/cpu_features.h"
#include "graph_from_js.h"
#include "js_errors.h"
#include "session.h"

namespace chaarfm {
namespace {

constexpr const char* kEngineName = "musicnn";

// ---- handles --------------------------------------------------------------------------------

struct ModelBox {
  std::shared_ptr<RunnerPool> pool;  // the graph and its idle engine instances
};

struct SessionBox {
  std::shared_ptr<Session> session;  // null once closed or finished
  bool busy = false;
};

template <typename T>
T* Unwrap(const Napi::Value& v, const char* what, const char* arg) {
  if (!v.IsExternal()) ThrowExpected(v.Env(), what, arg, v);
  auto ext = v.As<Napi::External<T>>();
  // a tag check keeps a session handle from being taken for a model handle
  static const napi_type_tag tag = {reinterpret_cast<uintptr_t>(&typeid(T)), 0x6368616172666dULL};
  bool ok = false;
  if (napi_check_object_type_tag(v.Env(), v, &tag, &ok) != napi_ok || !ok) ThrowExpected(v.Env(), what, arg, v);
  return ext.Data();
}

template <typename T>
Napi::Value Wrap(Napi::Env env, T* data) {
  auto ext = Napi::External<T>::New(env, data, [](Napi::Env, T* p) { delete p; });
  static const napi_type_tag tag = {reinterpret_cast<uintptr_t>(&typeid(T)), 0x6368616172666dULL};
  napi_type_tag_object(env, ext, &tag);
  return ext;
}

std::vector<float> CopyFloats(const Napi::Value& v, const char* arg) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowExpected(v.Env(), "a Float32Array", arg, v);
  }
  auto a = v.As<Napi::Float32Array>();
  return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
}

double RateArg(const Napi::Value& v) {
  if (!v.IsNumber()) ThrowExpected(v.Env(), "a sample rate in Hz", "sampleRate", v);
  double r = v.As<Napi::Number>().DoubleValue();
  if (!(r > 0) || !std::isfinite(r) || r > 1e7) ThrowExpected(v.Env(), "a positive sample rate", "sampleRate", v, JsErrorKind::kRange);
  return r;
}

int ThreadsArg(const Napi::Value& v) {
  if (!v.IsNumber()) ThrowExpected(v.Env(), "an integer from 1 to 64", "threads", v);
  double t = v.As<Napi::Number>().DoubleValue();
  if (!(t >= 1 && t <= 64) || std::floor(t) != t) ThrowExpected(v.Env(), "an integer from 1 to 64", "threads", v, JsErrorKind::kRange);
  return static_cast<int>(t);
}

Napi::Float32Array ToJs(Napi::Env env, const std::vector<float>& v) {
  auto a = Napi::Float32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

// ---- a promise-returning worker ---------------------------------------------------------------

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  using Always = std::function<void()>;

  static Napi::Promise Start(Napi::Env env, Work work, Done done, Always always = nullptr) {
    auto* w = new PromiseWorker(env, std::move(work), std::move(done), std::move(always));
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
  }

 private:
  PromiseWorker(Napi::Env env, Work work, Done done, Always always)
      : Napi::AsyncWorker(env, "chaarfm"), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), done_(std::move(done)), always_(std::move(always)) {}

  void Execute() override {
    try {
      work_();
    } catch (const std::invalid_argument& e) {
      kind_ = JsErrorKind::kRange;
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }

  void OnOK() override {
    if (always_) always_();
    try {
      deferred_.Resolve(done_(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    if (always_) always_();
    Napi::Error err = kind_ == JsErrorKind::kRange ? Napi::RangeError::New(Env(), e.Message()) : e;
    deferred_.Reject(err.Value());
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  Always always_;
  JsErrorKind kind_ = JsErrorKind::kError;
};

// ---- functions --------------------------------------------------------------------------------

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("engine", kEngineName);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("resampler", std::string("sinc-medium (libsamplerate 0.2.2, reimplemented) ") + SincDotBestName());
  o.Set("isa", IsaName(CpuIsa()));         // the kernels' ISA: this CPU's best, capped by CHAARFM_MAX_ISA
  o.Set("cpuIsa", IsaName(CpuBestIsa()));  // this CPU's best
  return o;
}

Napi::Value CreateModel(const Napi::CallbackInfo& info) {
  auto box = std::make_unique<ModelBox>();
  box->pool = std::make_shared<RunnerPool>(std::make_shared<const GraphSpec>(GraphFromJs(info[0])));
  return Wrap(info.Env(), box.release());
}

Napi::Value OpenSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelBox* model = Unwrap<ModelBox>(info[0], "a model handle from createModel()", "model");
  double rate = RateArg(info[1]);
  int threads = ThreadsArg(info[2]);
  auto pool = model->pool;
  auto made = std::make_shared<std::shared_ptr<Session>>();
  return PromiseWorker::Start(
      env, [=] { *made = std::make_shared<Session>(pool, rate, threads); },
      [=](Napi::Env e) {
        auto* box = new SessionBox();
        box->session = *made;
        return Wrap(e, box);
      });
}

// Takes the session for one async call; throws when closed or busy.
std::shared_ptr<Session> Acquire(const Napi::Value& v, SessionBox** out) {
  SessionBox* box = Unwrap<SessionBox>(v, "a session handle from openSession()", "session");
  if (!box->session) ThrowJs(v.Env(), JsErrorKind::kError, "The native session is closed");
  if (box->busy) ThrowJs(v.Env(), JsErrorKind::kError, "The native session is busy (one call at a time)");
  box->busy = true;
  *out = box;
  return box->session;
}

Napi::Value SessionPush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Unwrap<SessionBox>(info[0], "a session handle from openSession()", "session");
  auto pcm = std::make_shared<std::vector<float>>(CopyFloats(info[1], "pcm"));
  SessionBox* box = nullptr;
  std::shared_ptr<Session> s = Acquire(info[0], &box);
  auto prog = std::make_shared<Session::Progress>();
  // keep the handle alive while the call runs
  auto ref = std::make_shared<Napi::Reference<Napi::Value>>(Napi::Persistent(info[0]));
  return PromiseWorker::Start(
      env, [=] { *prog = s->Push(pcm->data(), pcm->size()); },
      [=](Napi::Env e) {
        Napi::Object o = Napi::Object::New(e);
        o.Set("inputSamples", static_cast<double>(prog->input_samples));
        o.Set("frames", static_cast<double>(prog->frames));
        o.Set("patches", static_cast<double>(prog->patches));
        o.Set("peak", prog->peak);
        return o;
      },
      [=] { box->busy = false; ref->Reset(); });
}

Napi::Value SessionFinish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SessionBox* box = nullptr;
  std::shared_ptr<Session> s = Acquire(info[0], &box);
  auto res = std::make_shared<Session::Result>();
  auto ref = std::make_shared<Napi::Reference<Napi::Value>>(Napi::Persistent(info[0]));
  return PromiseWorker::Start(
      env, [=] { *res = s->Finish(); },
      [=](Napi::Env e) {
        Napi::Object o = Napi::Object::New(e);
        Napi::Array means = Napi::Array::New(e, res->means.size());
        for (size_t i = 0; i < res->means.size(); i++) means.Set(static_cast<uint32_t>(i), ToJs(e, res->means[i]));
        o.Set("means", means);
        o.Set("patches", static_cast<double>(res->patches));
        o.Set("frames", static_cast<double>(res->frames));
        o.Set("inputSamples", static_cast<double>(res->input_samples));
        o.Set("outputSamples", static_cast<double>(res->output_samples));
        o.Set("peak", res->peak);
        o.Set("finite", res->finite);
        return o;
      },
      [=] {
        box->busy = false;
        box->session.reset();  // one finish per session; free the engine now
        ref->Reset();
      });
}

Napi::Value SessionClose(const Napi::CallbackInfo& info) {
  SessionBox* box = Unwrap<SessionBox>(info[0], "a session handle from openSession()", "session");
  box->session.reset();  // a running call holds its own reference and frees it when done
  return info.Env().Undefined();
}

Napi::Value RunPatches(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelBox* model = Unwrap<ModelBox>(info[0], "a model handle from createModel()", "model");
  auto patches = std::make_shared<std::vector<float>>(CopyFloats(info[1], "patches"));
  const size_t patch = kPatchFrames * kMelBands;
  if (patches->size() % patch != 0) {
    ThrowJs(env, JsErrorKind::kRange, "Expected a multiple of 187 x 96 values for patches but received " +
                                          std::to_string(patches->size()));
  }
  int threads = ThreadsArg(info[2]);
  auto pool = model->pool;
  auto out = std::make_shared<std::vector<std::vector<float>>>();
  return PromiseWorker::Start(
      env,
      [=] {
        MusicnnRunner runner(pool->spec(), threads);
        *out = runner.RunPatches(patches->data(), patches->size() / patch);
      },
      [=](Napi::Env e) {
        Napi::Array a = Napi::Array::New(e, out->size());
        for (size_t i = 0; i < out->size(); i++) a.Set(static_cast<uint32_t>(i), ToJs(e, (*out)[i]));
        return a;
      });
}

// The stream path on ready-made log-mel frames (n x 96): the runner's PushFrames + Finish, with
// or without the overlap reuse (default with); the means as a session returns them.
Napi::Value RunFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelBox* model = Unwrap<ModelBox>(info[0], "a model handle from createModel()", "model");
  auto frames = std::make_shared<std::vector<float>>(CopyFloats(info[1], "frames"));
  if (frames->size() % kMelBands != 0) {
    ThrowJs(env, JsErrorKind::kRange, "Expected a multiple of 96 values for frames but received " +
                                          std::to_string(frames->size()));
  }
  int threads = ThreadsArg(info[2]);
  MusicnnRunner::Options opt;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    if (!info[3].IsBoolean()) ThrowExpected(env, "a boolean", "reuse", info[3], JsErrorKind::kType);
    opt.overlap_reuse = info[3].As<Napi::Boolean>().Value();
  }
  auto pool = model->pool;
  auto res = std::make_shared<MusicnnRunner::Result>();
  return PromiseWorker::Start(
      env,
      [=] {
        MusicnnRunner runner(pool->spec(), threads, opt);
        runner.PushFrames(frames->data(), frames->size() / kMelBands);
        *res = runner.Finish();
      },
      [=](Napi::Env e) {
        Napi::Object o = Napi::Object::New(e);
        Napi::Array means = Napi::Array::New(e, res->means.size());
        for (size_t i = 0; i < res->means.size(); i++) means.Set(static_cast<uint32_t>(i), ToJs(e, res->means[i]));
        o.Set("means", means);
        o.Set("patches", Napi::Number::New(e, static_cast<double>(res->patches)));
        return o;
      });
}

Napi::Value Resample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pcm = std::make_shared<std::vector<float>>(CopyFloats(info[0], "pcm"));
  double rate = RateArg(info[1]);
  size_t chunk = 16384;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsNumber() || info[2].As<Napi::Number>().DoubleValue() < 1) {
      ThrowExpected(env, "a positive integer", "chunk", info[2], JsErrorKind::kRange);
    }
    chunk = static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue());
  }
  int threads = info.Length() > 3 && !info[3].IsUndefined() ? ThreadsArg(info[3]) : 1;
  auto out = std::make_shared<std::vector<float>>();
  return PromiseWorker::Start(
      env,
      [=] {
        Resampler r(rate, threads);
        out->reserve(static_cast<size_t>(pcm->size() * static_cast<double>(r.ratio())) + 1024);
        for (size_t pos = 0; pos < pcm->size(); pos += chunk) {
          r.Push(pcm->data() + pos, std::min(chunk, pcm->size() - pos), out.get());
        }
        r.End(out.get());
      },
      [=](Napi::Env e) { return ToJs(e, *out); });
}

Napi::Value MelBands(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto frames = std::make_shared<std::vector<float>>(CopyFloats(info[0], "frames"));
  if (frames->size() % kFrameSize != 0) {
    ThrowJs(env, JsErrorKind::kRange, "Expected a multiple of 512 values for frames but received " +
                                          std::to_string(frames->size()));
  }
  auto out = std::make_shared<std::vector<float>>();
  return PromiseWorker::Start(
      env,
      [=] {
        size_t n = frames->size() / kFrameSize;
        out->resize(n * kMelBands);
        MelFrontend mel;
        mel.Compute(frames->data(), n, out->data());
      },
      [=](Napi::Env e) { return ToJs(e, *out); });
}

Napi::Value Frontend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pcm = std::make_shared<std::vector<float>>(CopyFloats(info[0], "pcm"));
  auto out = std::make_shared<std::vector<float>>();
  return PromiseWorker::Start(
      env,
      [=] {
        FrameCutter cut;
        std::vector<float> frames;
        cut.Push(pcm->data(), pcm->size(), &frames);
        cut.End(&frames);
        size_t n = frames.size() / kFrameSize;
        out->resize(n * kMelBands);
        MelFrontend mel;
        mel.Compute(frames.data(), n, out->data());
      },
      [=](Napi::Env e) { return ToJs(e, *out); });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // A CHAARFM_MAX_ISA the engine does not understand: refuse to load, saying why.
  if (const char* err = CpuIsaError()) {
    Napi::Error::New(env, std::string(err) + " (unset it, or set one of those)").ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("createModel", Napi::Function::New(env, CreateModel, "createModel"));
  exports.Set("openSession", Napi::Function::New(env, OpenSession, "openSession"));
  exports.Set("sessionPush", Napi::Function::New(env, SessionPush, "sessionPush"));
  exports.Set("sessionFinish", Napi::Function::New(env, SessionFinish, "sessionFinish"));
  exports.Set("sessionClose", Napi::Function::New(env, SessionClose, "sessionClose"));
  exports.Set("runPatches", Napi::Function::New(env, RunPatches, "runPatches"));
  exports.Set("runFrames", Napi::Function::New(env, RunFrames, "runFrames"));
  exports.Set("resample", Napi::Function::New(env, Resample, "resample"));
  exports.Set("melBands", Napi::Function::New(env, MelBands, "melBands"));
  exports.Set("frontend", Napi::Function::New(env, Frontend, "frontend"));
  return exports;
}

}  // namespace chaarfm

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return chaarfm::Init(env, exports); }

NODE_API_MODULE(chaarfm, InitAddon)
