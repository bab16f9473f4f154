// Cross-entropy and its gradient; see cross_entropy.h. One row per step, eight floats at a time
// (simd.h), compiled for AVX-512, AVX2+FMA and baseline x86-64 (target_clones, as softmax.cc);
// rows are split over the pool. The forward pass reads each row twice (max, then Σ exp) and
// writes two floats; the backward pass reads it once and writes it once.
#include "cross_entropy.h"
#include "clones.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "pool.h"
#include "simd.h"

namespace mmft {
namespace {

using namespace simd;

// Labels live in the same heap as the floats; memcpy reads them without type punning.
MMFT_INLINE int32_t labelAt(const int32_t* labels, int64_t row) {
  int32_t v;
  std::memcpy(&v, labels + row, sizeof v);
  return v;
}

MMFT_TARGET_CLONES void forwardRange(const float* logits, const int32_t* labels, float* loss, float* lse, int64_t n, int32_t ignoreIndex,
                                     int64_t begin, int64_t end) {
  for (int64_t row = begin; row < end; row++) {
    const float* x = logits + row * n;
    int64_t i = 0;
    v8f vm = splat(-INFINITY);
    for (; i + 8 <= n; i += 8) {
      const v8f v = load(x + i);
      vm = v > vm ? v : vm;
    }
    float mx = hmax(vm);
    for (; i < n; i++) mx = std::max(mx, x[i]);
    // Float lanes, summed in double across lanes and for the tail (as softmax.cc).
    v8f vs = splat(0.0f);
    for (i = 0; i + 8 <= n; i += 8) vs += vexp(load(x + i) - splat(mx));
    double sum = hsumd(vs);
    for (; i < n; i++) sum += sexp(x[i] - mx);
    const double logSum = std::log(sum);
    lse[row] = float(double(mx) + logSum);
    const int32_t label = labelAt(labels, row);
    // (max − x[label]) + log Σ: no cancellation between two large numbers when logits are large.
    if (label == ignoreIndex)
      loss[row] = 0.0f;
    else if (label >= 0 && label < n)
      loss[row] = float(double(mx) - double(x[label]) + logSum);
    else
      loss[row] = std::numeric_limits<float>::quiet_NaN();
  }
}

MMFT_TARGET_CLONES void backwardRange(const float* dy, const float* dlse, const float* logits, const int32_t* labels, const float* lse,
                                      float* dx, int64_t n, int32_t ignoreIndex, int64_t begin, int64_t end) {
  for (int64_t row = begin; row < end; row++) {
    const float* x = logits + row * n;
    float* d = dx + row * n;
    const int32_t label = labelAt(labels, row);
    const bool ignored = label == ignoreIndex;
    if (!ignored && (label < 0 || label >= n)) {
      std::fill(d, d + n, std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    // The loss is the constant 0 on an ignored row: its upstream gradient does not reach the logits.
    const float g = ignored ? 0.0f : dy[row], scale = g + dlse[row], l = lse[row];
    if (scale == 0.0f && g == 0.0f) {
      std::memset(d, 0, size_t(n) * sizeof(float));
      continue;
    }
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) store(d + i, vexp(load(x + i) - splat(l)) * splat(scale));
    for (; i < n; i++) d[i] = sexp(x[i] - l) * scale;
    if (!ignored) d[label] -= g;
  }
}

}  // namespace

void crossEntropy(const float* logits, const int32_t* labels, float* loss, float* lse, int64_t rows, int64_t cols, int32_t ignoreIndex,
                  int threads) {
  if (rows <= 0) return;
  if (cols <= 0) {
    // An empty vocabulary: log Σ over nothing is −∞, and no label can be valid.
    for (int64_t r = 0; r < rows; r++) {
      lse[r] = -INFINITY;
      loss[r] = labelAt(labels, r) == ignoreIndex ? 0.0f : std::numeric_limits<float>::quiet_NaN();
    }
    return;
  }
  const int t = useThreads(threads, rows);
  runParallel(t, [&](int w) { forwardRange(logits, labels, loss, lse, cols, ignoreIndex, rows * w / t, rows * (w + 1) / t); });
}

void crossEntropyGrad(const float* dy, const float* dlse, const float* logits, const int32_t* labels, const float* lse, float* dx,
                      int64_t rows, int64_t cols, int32_t ignoreIndex, int threads) {
  if (rows <= 0 || cols <= 0) return;
  const int t = useThreads(threads, rows);
  runParallel(t, [&](int w) { backwardRange(dy, dlse, logits, labels, lse, dx, cols, ignoreIndex, rows * w / t, rows * (w + 1) / t); });
}

}  // namespace mmft
