// SPDX-License-Identifier: MIT
// The cache behind WideDftPlan and TallDftPlan (conv_wide_dft.h, conv_tall_dft.h): one prepared
// kernel, kept while it matches what the caller asks for, remade when it does not. A copy starts
// empty: a plan belongs to the weights beside it, and a copy's weights live elsewhere.
// Thread-safe (one mutex; the kernel is read-only once made).
#pragma once

#include <memory>
#include <mutex>

namespace chaarfm {

template <class Kernel>
class DftPlan {
 public:
  DftPlan() = default;
  DftPlan(const DftPlan&) {}
  DftPlan& operator=(const DftPlan&) { return *this; }

 protected:
  // The kept kernel if same(kernel), else make()'s, kept from then on.
  template <class Same, class Make>
  std::shared_ptr<const Kernel> Get(const Same& same, const Make& make) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!kernel_ || !same(*kernel_)) kernel_ = make();
    return kernel_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Kernel> kernel_;
};

}  // namespace chaarfm
