// SPDX-License-Identifier: MIT
// A minimal test harness for the engine's C++ tests: TEST(name) registers a function, CHECK
// records a failure with file:line, SKIP(reason) ends a test that cannot run here (a SIMD
// variant this CPU or CHAARFM_MAX_ISA does not allow, no fixtures): it is reported as SKIP with
// the reason and counted apart, never as a pass; Nse() is the normalised squared error of ggml's backend
// checks (sum (a-b)^2 / sum b^2), Random() is a deterministic generator. Not thread-safe.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace chaarfm {
namespace test {

struct Registry {
  static std::vector<std::pair<std::string, std::function<void()>>>& Tests() {
    static std::vector<std::pair<std::string, std::function<void()>>> t;
    return t;
  }
  static int& Failures() { static int f = 0; return f; }
  static std::string& Fixtures() { static std::string d; return d; }
  static std::string& Skipped() { static std::string r; return r; }  // the current test's reason
};
struct Register {
  Register(const char* name, std::function<void()> fn) { Registry::Tests().emplace_back(name, std::move(fn)); }
};
#define TEST(name)                                                        \
  static void name();                                                     \
  static ::chaarfm::test::Register name##_reg(#name, name);               \
  static void name()

#define SKIP(reason)                                                                           \
  do {                                                                                         \
    std::ostringstream skip_reason_;                                                           \
    skip_reason_ << reason;                                                                    \
    ::chaarfm::test::Registry::Skipped() = skip_reason_.str();                                 \
    return;                                                                                    \
  } while (0)

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      ++::chaarfm::test::Registry::Failures();                                        \
      std::cout << "  FAIL " << __FILE__ << ":" << __LINE__ << ": " #cond << "\n";    \
    }                                                                                 \
  } while (0)
#define CHECK_MSG(cond, msg)                                                                      \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      ++::chaarfm::test::Registry::Failures();                                                    \
      std::cout << "  FAIL " << __FILE__ << ":" << __LINE__ << ": " #cond << " -- " << msg << "\n"; \
    }                                                                                             \
  } while (0)

// Normalised squared error: what ggml's test-backend-ops uses to compare a backend to the CPU.
inline double Nse(const std::vector<float>& a, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = a[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den == 0 ? num : num / den;
}
inline double Nse(const std::vector<float>& a, const std::vector<float>& b) {
  return Nse(a, std::vector<double>(b.begin(), b.end()));
}
constexpr double kNseMax = 1e-10;

inline std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * static_cast<float>(s >> 8) / 16777216.f;
  }
  return v;
}

inline bool BitEqual(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  return true;
}

}  // namespace test
}  // namespace chaarfm
