// SPDX-License-Identifier: MIT
// One place that throws JS errors of the right kind from the addon (house style):
//   TypeError  - an argument of the wrong type ("Expected a Float32Array for pcm but received string")
//   RangeError - a value or size out of range
//   Error      - everything else (engine failures, use after close)
// All helpers are synchronous and throw a Napi::Error (C++ exceptions are enabled).
#pragma once

#include <napi.h>

#include <string>

namespace chaarfm {

enum class JsErrorKind { kType, kRange, kError };

[[noreturn]] inline void ThrowJs(Napi::Env env, JsErrorKind kind, const std::string& message) {
  switch (kind) {
    case JsErrorKind::kType:
      throw Napi::TypeError::New(env, message);
    case JsErrorKind::kRange:
      throw Napi::RangeError::New(env, message);
    default:
      throw Napi::Error::New(env, message);
  }
}

// A short description of a JS value for "but received ..." messages.
inline std::string DescribeJs(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) return "a typed array";
  if (v.IsArray()) return "an array";
  if (v.IsNumber()) return "number " + v.ToString().Utf8Value();
  if (v.IsString()) return "string \"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "a value of another type";
}

// Throws a TypeError "Expected <what> for <arg> but received <value>".
[[noreturn]] inline void ThrowExpected(Napi::Env env, const std::string& what, const std::string& arg,
                                       const Napi::Value& got, JsErrorKind kind = JsErrorKind::kType) {
  ThrowJs(env, kind, "Expected " + what + " for " + arg + " but received " + DescribeJs(got));
}

}  // namespace chaarfm
