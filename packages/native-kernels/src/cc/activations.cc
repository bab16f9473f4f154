// quick_gelu and its gradient; see activations.h. Loops are compiled for AVX-512, AVX2+FMA and baseline x86-64
// (target_clones, as fused.cc), eight floats at a time (simd.h).
#include "activations.h"
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

MMFT_INLINE v8f vsigmoid(v8f ax) { return splat(1.0f) / (splat(1.0f) + vexp(-ax)); }

constexpr float QUICK_GELU_ALPHA = 1.702f;

MMFT_TARGET_CLONES void quickGeluRange(const float* x, float* y, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const v8f v = load(x + i);
    store(y + i, v * vsigmoid(v * splat(QUICK_GELU_ALPHA)));
  }
  for (; i < end; i++) y[i] = x[i] / (1.0f + sexp(-QUICK_GELU_ALPHA * x[i]));
}

MMFT_TARGET_CLONES void quickGeluGradRange(const float* dy, const float* x, float* dx, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const v8f v = load(x + i);
    const v8f s = vsigmoid(v * splat(QUICK_GELU_ALPHA));
    store(dx + i, load(dy + i) * (s + splat(QUICK_GELU_ALPHA) * v * s * (splat(1.0f) - s)));
  }
  for (; i < end; i++) {
    const float s = 1.0f / (1.0f + sexp(-QUICK_GELU_ALPHA * x[i]));
    dx[i] = dy[i] * (s + QUICK_GELU_ALPHA * x[i] * s * (1.0f - s));
  }
}

}  // namespace

void quickGelu(const float* x, float* y, int64_t n, int threads) {
  if (n > 0) parallelElements(n, threads, [&](int64_t b, int64_t e) { quickGeluRange(x, y, b, e); });
}

void quickGeluGrad(const float* dy, const float* x, float* dx, int64_t n, int threads) {
  if (n > 0) parallelElements(n, threads, [&](int64_t b, int64_t e) { quickGeluGradRange(dy, x, dx, b, e); });
}

}  // namespace mmft
