// Reductions and row-wise kernels of mmft's training step, the C++ side of backend-tfjs's wasm
// overrides: column sums of a row-major matrix (bias gradients), softmax over the last axis with an
// optional broadcast additive mask (attention), and CLIP's quick_gelu. exp is a vectorised
// float32 polynomial (Cephes expf's, ~1 ulp), so sigmoid and softmax agree with tfjs's float32
// kernels to float32 rounding. Work is split over `threads` as in fused.h.
#pragma once
#include <cstdint>

namespace mmft {

/** out[c] = Σ_r x[r·cols + c] (float64 partial sums, rounded once). */
void sumRows(const float* x, float* out, int64_t rows, int64_t cols, int threads);

/** Σ x² over `count` arrays, array i at parts[i] with sizes[i] floats (float64 sums, arrays split over threads). */
double sumOfSquares(const float* const* parts, const int64_t* sizes, int64_t count, int threads);

/** out[i] = a[i] + b[i mod m] for `n` floats (m divides n: b is a or a row repeated, a bias). */
void addRepeated(const float* a, const float* b, float* out, int64_t n, int64_t m, int threads);

/** y = x·σ(1.702·x) for `n` floats. */
void quickGelu(const float* x, float* y, int64_t n, int threads);

/** dx = dy·(s + 1.702·x·s·(1 − s)), s = σ(1.702·x). */
void quickGeluGrad(const float* dy, const float* x, float* dx, int64_t n, int threads);

/**
 * Shape of a softmax over [batch, heads, rows, cols] (last axis), and where the additive mask row
 * of (b, h, r) starts: b·maskBatch + h·maskHead + r·maskRow floats (a stride of 0 broadcasts).
 */
struct SoftmaxShape {
  int64_t batch, heads, rows, cols;
  int64_t maskBatch, maskHead, maskRow;
};

/**
 * y = softmax(z) over the last axis, z = x without a mask, else max(x + mask, minValue) (the
 * clamp keeps fully masked rows finite, as @mmft/core's attention does).
 */
void softmax(const float* x, const float* mask, float* y, const SoftmaxShape& shape, float minValue, int threads);

/**
 * dx = y·(dy − Σ dy·y) for the softmax above, times [x + mask ≥ minValue] with a mask (the
 * clamp's gradient, as tf.maximum's).
 */
void softmaxGrad(const float* dy, const float* y, const float* x, const float* mask, float* dx, const SoftmaxShape& shape, float minValue,
                 int threads);

/**
 * softmax of `rows` rows on the calling thread (inside a runParallel job): the mask row r starts
 * r·maskRow floats after `mask` (nullptr: no mask). y may be x (in place).
 */
void softmaxRowsSerial(const float* x, const float* mask, int64_t maskRow, float* y, int64_t rows, int64_t cols, float minValue);

/** softmaxGrad of `rows` rows on the calling thread; dx may be dy (in place). */
void softmaxGradRowsSerial(const float* dy, const float* y, const float* x, const float* mask, int64_t maskRow, float* dx, int64_t rows,
                           int64_t cols, float minValue);

}  // namespace mmft
