// SPDX-License-Identifier: MIT
// See graph_from_js.h.
#include "graph_from_js.h"

#include <cmath>
#include <string>

#include "js_errors.h"

namespace chaarfm {
namespace {

Napi::Object AsObject(const Napi::Value& v, const std::string& where) {
  if (!v.IsObject() || v.IsArray()) ThrowExpected(v.Env(), "an object", where, v);
  return v.As<Napi::Object>();
}

Napi::Array AsArray(const Napi::Value& v, const std::string& where) {
  if (!v.IsArray()) ThrowExpected(v.Env(), "an array", where, v);
  return v.As<Napi::Array>();
}

std::string AsString(const Napi::Value& v, const std::string& where) {
  if (!v.IsString()) ThrowExpected(v.Env(), "a string", where, v);
  return v.As<Napi::String>().Utf8Value();
}

double AsNumber(const Napi::Value& v, const std::string& where) {
  if (!v.IsNumber()) ThrowExpected(v.Env(), "a number", where, v);
  return v.As<Napi::Number>().DoubleValue();
}

int64_t AsInt(const Napi::Value& v, const std::string& where) {
  double d = AsNumber(v, where);
  if (!std::isfinite(d) || std::floor(d) != d) ThrowExpected(v.Env(), "an integer", where, v, JsErrorKind::kRange);
  return static_cast<int64_t>(d);
}

std::vector<int64_t> AsIntList(const Napi::Value& v, const std::string& where) {
  Napi::Array a = AsArray(v, where);
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = AsInt(a.Get(i), where + "[" + std::to_string(i) + "]");
  return out;
}

AttrValue AttrFromJs(const Napi::Value& v, const std::string& where) {
  Napi::Object o = AsObject(v, where);
  std::string kind = AsString(o.Get("kind"), where + ".kind");
  AttrValue a;
  if (kind == "none") {
    a.kind = AttrValue::Kind::kNone;
  } else if (kind == "int") {
    a.kind = AttrValue::Kind::kInt;
    a.i = AsInt(o.Get("i"), where + ".i");
  } else if (kind == "float") {
    a.kind = AttrValue::Kind::kFloat;
    a.f = static_cast<float>(AsNumber(o.Get("f"), where + ".f"));
  } else if (kind == "bool") {
    a.kind = AttrValue::Kind::kBool;
    Napi::Value b = o.Get("b");
    if (!b.IsBoolean()) ThrowExpected(v.Env(), "a boolean", where + ".b", b);
    a.b = b.As<Napi::Boolean>().Value();
  } else if (kind == "string" || kind == "type") {
    a.kind = kind == "string" ? AttrValue::Kind::kString : AttrValue::Kind::kType;
    a.s = AsString(o.Get("s"), where + ".s");
  } else if (kind == "intList" || kind == "shape") {
    a.kind = kind == "intList" ? AttrValue::Kind::kIntList : AttrValue::Kind::kShape;
    a.ints = AsIntList(o.Get("ints"), where + ".ints");
  } else {
    ThrowExpected(v.Env(), "one of none, int, float, bool, string, type, intList, shape", where + ".kind", o.Get("kind"));
  }
  return a;
}

NodeSpec NodeFromJs(const Napi::Value& v, const std::string& where) {
  Napi::Object o = AsObject(v, where);
  NodeSpec n;
  n.name = AsString(o.Get("name"), where + ".name");
  n.op = AsString(o.Get("op"), where + ".op");
  Napi::Array inputs = AsArray(o.Get("inputs"), where + ".inputs");
  for (uint32_t i = 0; i < inputs.Length(); i++) {
    n.inputs.push_back(AsString(inputs.Get(i), where + ".inputs[" + std::to_string(i) + "]"));
  }
  Napi::Value attrs = o.Get("attrs");
  if (!attrs.IsUndefined()) {
    Napi::Object ao = AsObject(attrs, where + ".attrs");
    Napi::Array keys = ao.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string key = keys.Get(i).ToString().Utf8Value();
      n.attrs[key] = AttrFromJs(ao.Get(key), where + ".attrs." + key);
    }
  }
  return n;
}

void ConstFromJs(const Napi::Value& v, const std::string& where, GraphSpec* spec) {
  Napi::Object o = AsObject(v, where);
  std::string name = AsString(o.Get("name"), where + ".name");
  TensorSpec t;
  t.shape = AsIntList(o.Get("shape"), where + ".shape");
  size_t count = 1;
  for (int64_t d : t.shape) {
    if (d < 0) ThrowJs(v.Env(), JsErrorKind::kRange, "Expected non-negative dimensions for " + where + ".shape");
    count *= static_cast<size_t>(d);
  }
  Napi::Value f32 = o.Get("f32");
  if (!f32.IsUndefined()) {
    if (!f32.IsTypedArray() || f32.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      ThrowExpected(v.Env(), "a Float32Array", where + ".f32", f32);
    }
    Napi::Float32Array a = f32.As<Napi::Float32Array>();
    if (a.ElementLength() != count) {
      ThrowJs(v.Env(), JsErrorKind::kRange,
              "Expected " + std::to_string(count) + " values for " + where + ".f32 but received " +
                  std::to_string(a.ElementLength()));
    }
    t.is_float = true;
    t.f32.assign(a.Data(), a.Data() + a.ElementLength());
  } else {
    t.is_float = false;
    t.ints = AsIntList(o.Get("ints"), where + ".ints");
    if (t.ints.size() != count) {
      ThrowJs(v.Env(), JsErrorKind::kRange,
              "Expected " + std::to_string(count) + " values for " + where + ".ints but received " +
                  std::to_string(t.ints.size()));
    }
  }
  spec->consts[name] = std::move(t);
}

}  // namespace

GraphSpec GraphFromJs(const Napi::Value& graph) {
  Napi::Object g = AsObject(graph, "graph");
  GraphSpec spec;
  Napi::Array nodes = AsArray(g.Get("nodes"), "graph.nodes");
  spec.nodes.reserve(nodes.Length());
  for (uint32_t i = 0; i < nodes.Length(); i++) {
    spec.nodes.push_back(NodeFromJs(nodes.Get(i), "graph.nodes[" + std::to_string(i) + "]"));
  }
  Napi::Array consts = AsArray(g.Get("consts"), "graph.consts");
  for (uint32_t i = 0; i < consts.Length(); i++) {
    ConstFromJs(consts.Get(i), "graph.consts[" + std::to_string(i) + "]", &spec);
  }
  spec.input = AsString(g.Get("input"), "graph.input");
  Napi::Array outputs = AsArray(g.Get("outputs"), "graph.outputs");
  if (outputs.Length() == 0) ThrowJs(graph.Env(), JsErrorKind::kRange, "Expected at least one name for graph.outputs");
  for (uint32_t i = 0; i < outputs.Length(); i++) {
    spec.outputs.push_back(AsString(outputs.Get(i), "graph.outputs[" + std::to_string(i) + "]"));
  }
  return spec;
}

}  // namespace chaarfm
