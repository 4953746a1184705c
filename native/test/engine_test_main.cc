// SPDX-License-Identifier: MIT
// Entry point of chaarfm_engine_test: runs every registered test (or those whose name
// contains argv filter), prints PASS/FAIL/SKIP per test and exits non-zero on any failure.
// Usage: chaarfm_engine_test [--fixtures DIR] [filter]; DIR holds the files written by
// test/native/dump-engine-fixtures.mjs (tests that need them skip without it).
#include <cstdlib>
#include <exception>
#include <iostream>

#include "../src/kernels/backend.h"
#include "test_util.h"

int main(int argc, char** argv) {
  using chaarfm::test::Registry;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--fixtures" && i + 1 < argc) Registry::Fixtures() = argv[++i];
    else filter = a;
  }
  if (Registry::Fixtures().empty() && std::getenv("CHAARFM_ENGINE_FIXTURES"))
    Registry::Fixtures() = std::getenv("CHAARFM_ENGINE_FIXTURES");
  std::cout << "kernel backend: " << chaarfm::FastBackendName() << "\n";
  int run = 0;
  for (auto& [name, fn] : Registry::Tests()) {
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    const int before = Registry::Failures();
    try {
      fn();
    } catch (const std::exception& e) {
      ++Registry::Failures();
      std::cout << "  FAIL exception: " << e.what() << "\n";
    }
    ++run;
    std::cout << (Registry::Failures() == before ? "PASS " : "FAIL ") << name << std::endl;
  }
  std::cout << run << " tests, " << Registry::Failures() << " failures" << std::endl;
  return Registry::Failures() == 0 ? 0 : 1;
}
