// Softmax over the last axis, with attention's additive mask, and its gradient (softmax.cc).
#pragma once
#include <cstdint>

namespace mmft {

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
