// Softmax and its gradient; see softmax.h. Loops are compiled for AVX-512, AVX2+FMA and baseline x86-64
// (target_clones, as fused.cc), eight floats at a time (simd.h).
#include "softmax.h"
#include "clones.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "pool.h"
#include "simd.h"

namespace mmft {
namespace {

using namespace simd;

const float* maskRow(const float* mask, const SoftmaxShape& s, int64_t row) {
  if (!mask) return nullptr;
  const int64_t r = row % s.rows, h = (row / s.rows) % s.heads, b = row / (s.rows * s.heads);
  return mask + b * s.maskBatch + h * s.maskHead + r * s.maskRow;
}

// z = x, or max(x + mask, minValue), into `out` (one row of n floats).
MMFT_INLINE void logits(const float* x, const float* m, float* out, int64_t n, float minValue) {
  if (!m) {
    if (out != x) std::memcpy(out, x, size_t(n) * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < n; i++) out[i] = std::max(x[i] + m[i], minValue);
}

MMFT_TARGET_CLONES void softmaxRange(const float* x, const float* mask, float* y, const SoftmaxShape& s, float minValue, int64_t begin, int64_t end) {
  const int64_t n = s.cols;
  for (int64_t row = begin; row < end; row++) {
    float* yr = y + row * n;
    logits(x + row * n, maskRow(mask, s, row), yr, n, minValue);
    int64_t i = 0;
    v8f vm = splat(-INFINITY);
    for (; i + 8 <= n; i += 8) {
      const v8f v = load(yr + i);
      vm = v > vm ? v : vm;
    }
    float mx = hmax(vm);
    for (; i < n; i++) mx = std::max(mx, yr[i]);
    v8f vs = splat(0.0f);
    double sum = 0;
    for (i = 0; i + 8 <= n; i += 8) {
      const v8f e = vexp(load(yr + i) - splat(mx));
      store(yr + i, e);
      vs += e;
    }
    sum = hsumd(vs);
    for (; i < n; i++) {
      yr[i] = sexp(yr[i] - mx);
      sum += yr[i];
    }
    const float inv = float(1.0 / sum);
    for (i = 0; i + 8 <= n; i += 8) store(yr + i, load(yr + i) * splat(inv));
    for (; i < n; i++) yr[i] *= inv;
  }
}

MMFT_TARGET_CLONES void softmaxGradRange(const float* dy, const float* y, const float* x, const float* mask, float* dx, const SoftmaxShape& s,
                                       float minValue, int64_t begin, int64_t end) {
  const int64_t n = s.cols;
  for (int64_t row = begin; row < end; row++) {
    const float *gr = dy + row * n, *yr = y + row * n;
    float* dxr = dx + row * n;
    int64_t i = 0;
    v8f vd = splat(0.0f);
    for (; i + 8 <= n; i += 8) vd += load(gr + i) * load(yr + i);
    double dot = hsumd(vd);
    for (; i < n; i++) dot += double(gr[i]) * double(yr[i]);
    const float d = float(dot);
    for (i = 0; i + 8 <= n; i += 8) store(dxr + i, load(yr + i) * (load(gr + i) - splat(d)));
    for (; i < n; i++) dxr[i] = yr[i] * (gr[i] - d);
    const float* m = maskRow(mask, s, row);
    if (!m) continue;
    const float* xr = x + row * n;
    for (i = 0; i < n; i++)
      if (!(xr[i] + m[i] >= minValue)) dxr[i] = 0.0f;
  }
}

}  // namespace

void softmaxRowsSerial(const float* x, const float* mask, int64_t maskRow, float* y, int64_t rows, int64_t cols, float minValue) {
  const SoftmaxShape s{1, 1, rows, cols, 0, 0, maskRow};
  if (rows > 0 && cols > 0) softmaxRange(x, mask, y, s, minValue, 0, rows);
}

void softmaxGradRowsSerial(const float* dy, const float* y, const float* x, const float* mask, int64_t maskRow, float* dx, int64_t rows,
                           int64_t cols, float minValue) {
  const SoftmaxShape s{1, 1, rows, cols, 0, 0, maskRow};
  if (rows > 0 && cols > 0) softmaxGradRange(dy, y, x, mask, dx, s, minValue, 0, rows);
}

void softmax(const float* x, const float* mask, float* y, const SoftmaxShape& s, float minValue, int threads) {
  const int64_t rows = s.batch * s.heads * s.rows;
  if (rows <= 0 || s.cols <= 0) return;
  const int t = useThreads(threads, rows);
  runParallel(t, [&](int w) { softmaxRange(x, mask, y, s, minValue, rows * w / t, rows * (w + 1) / t); });
}

void softmaxGrad(const float* dy, const float* y, const float* x, const float* mask, float* dx, const SoftmaxShape& s, float minValue,
                 int threads) {
  const int64_t rows = s.batch * s.heads * s.rows;
  if (rows <= 0 || s.cols <= 0) return;
  const int t = useThreads(threads, rows);
  runParallel(t, [&](int w) { softmaxGradRange(dy, y, x, mask, dx, s, minValue, rows * w / t, rows * (w + 1) / t); });
}

}  // namespace mmft
