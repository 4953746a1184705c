// SPDX-License-Identifier: MIT
// Entry point of chaarfm_engine_test: runs every registered test (or those whose name
// contains argv filter; a filter starting with '-' runs those whose name does not contain the
// rest, e.g. -runner_ under qemu, where the full-graph tests take minutes each), prints PASS/FAIL/SKIP per test ("SKIP name: reason" for a test that
// cannot run here, e.g. a SIMD variant above CpuIsa()), a summary line
//   N tests, P passed, S skipped, F failures
// and exits non-zero on any failure (2 when CHAARFM_MAX_ISA is not understood).
// Usage: chaarfm_engine_test [--fixtures DIR] [filter]; DIR holds the files written by
// test/native/dump-engine-fixtures.mjs (tests that need them skip without it).
#include <cstdlib>
#include <exception>
#include <iostream>

#include "../src/kernels/cpu_features.h"
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
  if (const char* err = chaarfm::CpuIsaError()) {
    std::cout << "error: " << err << std::endl;
    return 2;
  }
  std::cout << "kernel isa: " << chaarfm::IsaName(chaarfm::CpuIsa()) << " (this CPU's best: "
            << chaarfm::IsaName(chaarfm::CpuBestIsa()) << ")\n";
  int run = 0, passed = 0, skipped = 0;
  for (auto& [name, fn] : Registry::Tests()) {
    if (!filter.empty()) {
      const bool exclude = filter[0] == '-';
      const bool has = name.find(exclude ? filter.substr(1) : filter) != std::string::npos;
      if (has == exclude) continue;
    }
    const int before = Registry::Failures();
    Registry::Skipped().clear();
    try {
      fn();
    } catch (const std::exception& e) {
      ++Registry::Failures();
      std::cout << "  FAIL exception: " << e.what() << "\n";
    }
    ++run;
    if (Registry::Failures() != before) {
      std::cout << "FAIL " << name << std::endl;
    } else if (!Registry::Skipped().empty()) {
      ++skipped;
      std::cout << "SKIP " << name << ": " << Registry::Skipped() << std::endl;
    } else {
      ++passed;
      std::cout << "PASS " << name << std::endl;
    }
  }
  std::cout << run << " tests, " << passed << " passed, " << skipped << " skipped, " << Registry::Failures()
            << " failures" << std::endl;
  return Registry::Failures() == 0 ? 0 : 1;
}
