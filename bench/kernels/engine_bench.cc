// SPDX-License-Identifier: MIT
// Engine benchmark: inference time per 187-frame patch over a 4-minute track's worth of
// frames (160 patches, random log-mel values), streamed through MusicnnRunner, with and
// without the overlap reuse, on 1 and 2 threads, with the fast backend (and the generic
// kernels for one configuration as the baseline). Prints ms/patch and ratios in one run.
// Usage: chaarfm_engine_bench <fixtures-dir> [patches] [config index]. Not part of the test suite.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#ifdef __linux__
#include <dirent.h>
#include <unistd.h>
#endif

#include "../../native/test/graph_fixture.h"
#include "graph/musicnn_runner.h"
#include "kernels/cpu_features.h"

using namespace chaarfm;

static double CpuSeconds() {  // this process, all threads: robust against other load on 1 thread
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// CPU seconds of each thread of this process (Linux: /proc/self/task/*/stat utime + stime; empty
// elsewhere). On a loaded machine the busiest thread's CPU time is what the wall time would be
// on a quiet one (the pool's threads block, they do not spin), so it shows how well the work splits.
static std::map<int, double> ThreadCpu() {
  std::map<int, double> out;
#ifdef __linux__
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/stat");
      std::string line;
      std::getline(f, line);
      const size_t close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      std::string field;
      double ut = 0, st = 0;
      for (int k = 3; k <= 15 && rest >> field; ++k) {
        if (k == 14) ut = std::atof(field.c_str());
        if (k == 15) st = std::atof(field.c_str());
      }
      out[std::atoi(e->d_name)] = (ut + st) / tick;
    }
    closedir(d);
  }
#endif
  return out;
}

int main(int argc, char** argv) {
  if (argc < 2) { std::fprintf(stderr, "usage: chaarfm_engine_bench <fixtures-dir> [patches]\n"); return 2; }
  const size_t P = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 160;
  GraphSpec g = test::LoadGraph(std::string(argv[1]) + "/msd");
  g.outputs = {"model/dense/BiasAdd"};
  const size_t frames = 187 + 93 * (P - 1);
  std::vector<float> x(frames * 96);
  unsigned s = 42;
  for (auto& v : x) { s = s * 1664525u + 1013904223u; v = static_cast<float>(s >> 8) / 16777216.f * 4.f; }
  std::printf("kernel isa: %s; %zu patches (%zu frames)\n", IsaName(CpuIsa()), P, frames);
  double base = 0;
  struct Cfg { const char* name; bool reuse, fast; int threads; } cfgs[] = {
      {"fast, per-patch, 1 thread", false, true, 1}, {"fast, overlap reuse, 1 thread", true, true, 1},
      {"fast, per-patch, 2 threads", false, true, 2}, {"fast, overlap reuse, 2 threads", true, true, 2},
      {"generic kernels, reuse, 1 thread", true, false, 1}};
  const int only = argc > 3 ? std::atoi(argv[3]) : -1;
  for (auto& c : cfgs) {
    if (only >= 0 && &c - cfgs != only) continue;
    MusicnnRunner::Options o;
    o.overlap_reuse = c.reuse;
    o.fast_kernels = c.fast;
    MusicnnRunner r(g, c.threads, o);
    const size_t n = c.fast ? P : std::min<size_t>(P, 8);
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = CpuSeconds();
    const auto before = ThreadCpu();
    r.PushFrames(x.data(), 187 + 93 * (n - 1));
    auto res = r.Finish();
    double busiest = 0;
    for (auto& [tid, sec] : ThreadCpu()) {
      auto it = before.find(tid);
      busiest = std::max(busiest, sec - (it == before.end() ? 0.0 : it->second));
    }
    const double ms = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3 / res.patches;
    const double cpu = (CpuSeconds() - c0) * 1e3 / res.patches;
    if (base == 0) base = ms;
    std::printf("%-34s %8.2f ms/patch wall, %8.2f ms/patch CPU (all threads), %8.2f busiest thread  (wall x%.2f vs first row)\n",
                c.name, ms, cpu, busiest * 1e3 / res.patches, base / ms);
  }
  return 0;
}
