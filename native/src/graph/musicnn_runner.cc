// SPDX-License-Identifier: MIT
// MusicnnRunner (see musicnn_runner.h). Not thread-safe per instance.
#include "musicnn_runner.h"

#include <cmath>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "../kernels/parallel.h"
#include "graph_executor.h"
#include "timbral_stream.h"

namespace chaarfm {

MusicnnRunner::MusicnnRunner(const GraphSpec& spec, int threads) : MusicnnRunner(spec, threads, Options{}) {}

MusicnnRunner::MusicnnRunner(const GraphSpec& spec, int threads, const Options& options) : opt_(options) {
  if (threads < 1) throw std::runtime_error("threads must be >= 1, got " + std::to_string(threads));
  if (opt_.batch < 1) opt_.batch = 1;
  std::vector<std::string> outputs = spec.outputs;
  if (outputs.empty()) outputs = {"model/dense/BiasAdd"};
  pool_ = std::make_unique<ThreadPool>(threads);
  full_ = std::make_unique<GraphExecutor>(spec, std::vector<std::string>{spec.input}, outputs, pool_.get(),
                                          opt_.fast_kernels);
  // Validate shapes with one zero patch and learn the output widths.
  auto in = std::make_shared<Tensor>();
  in->shape = {1, static_cast<int64_t>(kFrames), static_cast<int64_t>(kBands)};
  in->f.assign(kFrames * kBands, 0.f);
  auto out = full_->Run({in});
  for (size_t k = 0; k < out.size(); ++k) {
    if (!out[k]->is_float || out[k]->shape.size() != 2 || out[k]->shape[0] != 1)
      throw std::runtime_error("output '" + outputs[k] + "' has shape " + ShapeString(out[k]->shape) +
                               " for one patch; expected [1, width]");
    widths_.push_back(static_cast<size_t>(out[k]->shape[1]));
  }
  plan_ = std::make_unique<TimbralPlan>();
  if (opt_.overlap_reuse && FindTimbralBranches(spec, kBands, plan_.get()) && plan_->input == spec.input &&
      2 * plan_->branches[0].halo < kHop) {
    std::vector<std::string> feeds = {spec.input};
    for (auto& b : plan_->branches) feeds.push_back(b.squeeze);
    reuse_ = std::make_unique<GraphExecutor>(spec, feeds, outputs, pool_.get(), opt_.fast_kernels);
  }
  Reset();
}

MusicnnRunner::~MusicnnRunner() = default;

void MusicnnRunner::Reset() {
  frames_.clear();
  frames_base_ = frames_total_ = next_patch_ = 0;
  rows_base_ = rows_end_ = 0;
  stream_rows_.assign(reuse_ ? plan_->branches.size() : 0, {});
  batch_in_.clear();
  edges_.clear();
  batch_timbral_.assign(stream_rows_.size(), {});
  queued_ = patches_ = 0;
  sums_.assign(widths_.size(), {});
  finite_ = true;
}

void MusicnnRunner::PushFrames(const float* frames, size_t n) {
  size_t done = 0;
  while (done < n) {
    // take frames up to the end of the next patch, so the buffer stays bounded
    const size_t need = next_patch_ * kHop + kFrames;
    const size_t take = need > frames_total_ ? std::min(n - done, need - frames_total_) : 0;
    frames_.insert(frames_.end(), frames + done * kBands, frames + (done + take) * kBands);
    done += take;
    frames_total_ += take;
    if (frames_total_ >= need) QueuePatch();
  }
}

void MusicnnRunner::QueuePatch() {
  const size_t start = next_patch_ * kHop;
  const float* patch = frames_.data() + (start - frames_base_) * kBands;
  batch_in_.insert(batch_in_.end(), patch, patch + kFrames * kBands);
  if (reuse_) {
    const size_t h = plan_->branches[0].halo;
    const size_t bands = kBands;
    auto norm = [&](const float* src, size_t rows, float* dst) {
      for (size_t k = 0; k < rows * bands; ++k) dst[k] = src[k] * plan_->in_scale + plan_->in_shift;
    };
    // stream rows [max(rows_end_, start+h), start+187-h)
    const size_t g0 = std::max(rows_end_, start + h), g1 = start + kFrames - h;
    if (rows_end_ < g0) {  // first patch, or a gap: restart the row buffer
      for (auto& r : stream_rows_) r.clear();
      rows_base_ = rows_end_ = g0;
    }
    std::vector<float> in((g1 - g0 + 2 * h) * bands);
    norm(frames_.data() + (g0 - h - frames_base_) * bands, g1 - g0 + 2 * h, in.data());
    for (size_t b = 0; b < plan_->branches.size(); ++b) {
      const TimbralBranch& br = plan_->branches[b];
      auto& rows = stream_rows_[b];
      rows.resize((g1 - rows_base_) * br.co);
      ComputeTimbralRows(br, bands, in.data(), g1 - g0, rows.data() + (g0 - rows_base_) * br.co, pool_.get(),
                         opt_.fast_kernels);
    }
    rows_end_ = g1;
    // edges (h zero rows + 2h frames, and 2h frames + h zero rows) are computed per batch in
    // RunBatch, all patches' edges in one call; the middle rows come from the stream now
    const size_t at = edges_.size();
    edges_.resize(at + 6 * h * bands, 0.f);
    norm(patch, 2 * h, edges_.data() + at + h * bands);
    norm(patch + (kFrames - 2 * h) * bands, 2 * h, edges_.data() + at + 3 * h * bands);
    for (size_t b = 0; b < plan_->branches.size(); ++b) {
      const TimbralBranch& br = plan_->branches[b];
      auto& dst = batch_timbral_[b];
      const size_t off = dst.size();
      dst.resize(off + kFrames * br.co);
      std::memcpy(dst.data() + off + h * br.co, stream_rows_[b].data() + (start + h - rows_base_) * br.co,
                  (kFrames - 2 * h) * br.co * sizeof(float));
    }
  }
  ++next_patch_;
  ++queued_;
  // drop what the next patch no longer needs
  const size_t keep_from = next_patch_ * kHop;
  if (keep_from > frames_base_) {
    const size_t drop = std::min(keep_from, frames_total_) - frames_base_;
    frames_.erase(frames_.begin(), frames_.begin() + drop * kBands);
    frames_base_ += drop;
  }
  if (reuse_) {
    const size_t h = plan_->branches[0].halo;
    const size_t keep_rows = std::min(keep_from + h, rows_end_);
    if (keep_rows > rows_base_) {
      for (size_t b = 0; b < stream_rows_.size(); ++b) {
        const size_t co = plan_->branches[b].co;
        stream_rows_[b].erase(stream_rows_[b].begin(), stream_rows_[b].begin() + (keep_rows - rows_base_) * co);
      }
      rows_base_ = keep_rows;
    }
  }
  if (queued_ >= opt_.batch) RunBatch();
}

void MusicnnRunner::RunBatch() {
  if (queued_ == 0) return;
  auto in = std::make_shared<Tensor>();
  in->shape = {static_cast<int64_t>(queued_), static_cast<int64_t>(kFrames), static_cast<int64_t>(kBands)};
  in->f = std::move(batch_in_);
  std::vector<TensorPtr> feeds = {in};
  if (reuse_) {
    const size_t h = plan_->branches[0].halo;
    for (size_t b = 0; b < plan_->branches.size(); ++b) {
      const TimbralBranch& br = plan_->branches[b];
      std::vector<float> rows(2 * queued_ * h * br.co);
      ComputeTimbralRows(br, kBands, edges_.data(), h, rows.data(), pool_.get(), opt_.fast_kernels, 2 * queued_);
      for (size_t p = 0; p < queued_; ++p) {
        float* d = batch_timbral_[b].data() + p * kFrames * br.co;
        std::memcpy(d, rows.data() + (2 * p) * h * br.co, h * br.co * sizeof(float));
        std::memcpy(d + (kFrames - h) * br.co, rows.data() + (2 * p + 1) * h * br.co, h * br.co * sizeof(float));
      }
    }
    edges_.clear();
    for (size_t b = 0; b < plan_->branches.size(); ++b) {
      auto t = std::make_shared<Tensor>();
      t->shape = {static_cast<int64_t>(queued_), static_cast<int64_t>(kFrames),
                  static_cast<int64_t>(plan_->branches[b].co)};
      t->f = std::move(batch_timbral_[b]);
      feeds.push_back(t);
    }
  }
  AddRows(RunLanes(reuse_ ? *reuse_ : *full_, feeds, queued_), queued_);
  patches_ += queued_;
  queued_ = 0;
  batch_in_.clear();
  for (auto& b : batch_timbral_) b.clear();
}

void MusicnnRunner::AddRows(const std::vector<std::vector<float>>& rows, size_t n) {
  for (size_t o = 0; o < widths_.size(); ++o) {
    const size_t w = widths_[o];
    if (rows[o].size() != n * w) throw std::runtime_error("output size does not match the batch");
    for (size_t r = 0; r < n; ++r) {
      const float* row = rows[o].data() + r * w;
      for (size_t j = 0; j < w; ++j) if (!std::isfinite(row[j])) finite_ = false;
      if (sums_[o].empty()) sums_[o].assign(row, row + w);
      else for (size_t j = 0; j < w; ++j) sums_[o][j] = sums_[o][j] + row[j];
    }
  }
}

MusicnnRunner::Result MusicnnRunner::Finish() {
  RunBatch();
  Result r;
  r.patches = patches_;
  r.finite = finite_;
  for (size_t o = 0; o < widths_.size(); ++o) {
    std::vector<float> m(widths_[o], 0.f);
    if (patches_ > 0)
      for (size_t j = 0; j < m.size(); ++j) m[j] = sums_[o][j] / static_cast<float>(patches_);
    r.means.push_back(std::move(m));
  }
  Reset();
  return r;
}

std::vector<std::vector<float>> MusicnnRunner::RunPatches(const float* patches, size_t n) {
  std::vector<std::vector<float>> res(widths_.size());
  for (size_t o = 0; o < widths_.size(); ++o) res[o].reserve(n * widths_[o]);
  for (size_t p0 = 0; p0 < n; p0 += opt_.batch) {
    const size_t b = std::min(opt_.batch, n - p0);
    auto in = std::make_shared<Tensor>();
    in->shape = {static_cast<int64_t>(b), static_cast<int64_t>(kFrames), static_cast<int64_t>(kBands)};
    in->f.assign(patches + p0 * kFrames * kBands, patches + (p0 + b) * kFrames * kBands);
    auto out = RunLanes(*full_, {in}, b);
    for (size_t o = 0; o < out.size(); ++o) res[o].insert(res[o].end(), out[o].begin(), out[o].end());
  }
  return res;
}

std::vector<std::vector<float>> MusicnnRunner::RunLanes(const GraphExecutor& exec, const std::vector<TensorPtr>& feeds,
                                                        size_t n) {
  const size_t lanes = std::min(static_cast<size_t>(pool_->threads()), n);
  std::vector<std::vector<TensorPtr>> outs(std::max<size_t>(lanes, 1));
  if (lanes <= 1) {
    outs[0] = exec.Run(feeds);
  } else {
    std::vector<std::exception_ptr> errors(lanes);
    pool_->ParallelFor(lanes, [&](size_t g) {
      try {
        const size_t p0 = n * g / lanes, p1 = n * (g + 1) / lanes;
        std::vector<TensorPtr> sub;
        for (const auto& t : feeds) {
          auto part = std::make_shared<Tensor>();
          part->shape = t->shape;
          part->shape[0] = static_cast<int64_t>(p1 - p0);
          const size_t per = t->f.size() / n;
          part->f.assign(t->f.begin() + static_cast<std::ptrdiff_t>(p0 * per),
                         t->f.begin() + static_cast<std::ptrdiff_t>(p1 * per));
          sub.push_back(std::move(part));
        }
        outs[g] = exec.Run(sub, nullptr);  // this lane's kernels on this thread alone
      } catch (...) {
        errors[g] = std::current_exception();
      }
    });
    for (auto& e : errors) if (e) std::rethrow_exception(e);
  }
  std::vector<std::vector<float>> rows(outs[0].size());
  for (size_t o = 0; o < rows.size(); ++o)
    for (auto& lane : outs) rows[o].insert(rows[o].end(), lane[o]->f.begin(), lane[o]->f.end());
  return rows;
}

}  // namespace chaarfm
