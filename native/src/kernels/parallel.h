// SPDX-License-Identifier: MIT
// A tiny fixed-size thread pool for splitting one computation into independent tasks.
// ParallelFor(n, fn) runs fn(i) for every i in [0, n) and returns when all are done; which
// thread runs a task never changes what the task computes, so results do not depend on the
// thread count. Thread-safe for one caller at a time (each engine instance owns its pool).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chaarfm {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // threads <= 1: everything runs on the calling thread
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

 private:
  void WorkerLoop();
  void RunTasks();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0, next_ = 0, done_ = 0;
  unsigned generation_ = 0;
  bool stop_ = false;
};

}  // namespace chaarfm
